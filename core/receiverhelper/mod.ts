/**
 * What every receiver shares, as upstream's `receiverhelper`: counting the records it hands
 * to the pipeline (`otelcol_receiver_accepted_log_records` when the consumer resolved,
 * `otelcol_receiver_refused_log_records` when it rejected) with upstream's labels
 * `receiver` and `transport`.
 *
 * @module
 */

import type { CreateSettings } from "../component.ts";
import { capabilitiesOf, type ConsumeContext, type LogsConsumer } from "../consumer.ts";
import { logRecordCount, type Logs } from "../pdata/logs.ts";
import type { Counter, Labels } from "../telemetry/metrics.ts";

/** Metric names, exactly as upstream's receiverhelper. */
export const RECEIVER_METRICS = {
  accepted: "otelcol_receiver_accepted_log_records",
  refused: "otelcol_receiver_refused_log_records",
  failed: "otelcol_receiver_failed_log_records",
} as const;

/**
 * The `transport` label: `http` and `grpc` for the otlp receiver; `""` for receivers that
 * have none (filelog), which upstream still sets as an empty label.
 */
export type Transport = "http" | "grpc" | "";

/** Counts one receiver's hand-overs to the pipeline (upstream's `receiverhelper.ObsReport`). */
export class ObsReport {
  /** The labels of this receiver's series: `receiver` and `transport`. */
  readonly labels: Labels;
  readonly #accepted: Counter;
  readonly #refused: Counter;

  /** Registers the receiver's series (at 0, so they show before the first record). */
  constructor(settings: CreateSettings, transport: Transport) {
    this.labels = { ...settings.componentLabels, transport };
    const m = settings.metrics;
    this.#accepted = m.counter(
      RECEIVER_METRICS.accepted,
      "Number of log records successfully pushed into the pipeline.",
    );
    this.#refused = m.counter(
      RECEIVER_METRICS.refused,
      "Number of log records that could not be pushed into the pipeline.",
    );
    // Upstream reports `failed` apart from `refused` only behind its alpha feature gate
    // `receiverhelper.newReceiverMetrics`; without it every error is "refused" and
    // `failed` stays 0, which is what its endpoint shows by default.
    const failed = m.counter(
      RECEIVER_METRICS.failed,
      "The number of log records that failed to be processed by the receiver due to internal errors.",
    );
    this.#accepted.add(0, this.labels);
    this.#refused.add(0, this.labels);
    failed.add(0, this.labels);
  }

  /** Records the outcome of handing `count` records on: accepted without `err`, refused with. */
  endLogsOp(count: number, err?: unknown): void {
    if (err === undefined) this.#accepted.add(count, this.labels);
    else this.#refused.add(count, this.labels);
  }

  /**
   * Hands `logs` to `next` and counts the outcome; rethrows a rejection unchanged. The
   * records are counted before the call, since `next` takes ownership of `logs`.
   */
  async consume(next: LogsConsumer, logs: Logs, ctx: ConsumeContext): Promise<void> {
    const count = logRecordCount(logs);
    try {
      await next.consume(logs, ctx);
    } catch (err) {
      this.endLogsOp(count, err ?? new Error("rejected"));
      throw err;
    }
    this.endLogsOp(count);
  }

  /** Returns `next` wrapped so that every `consume` through it is counted. */
  wrap(next: LogsConsumer): LogsConsumer {
    return {
      ...capabilitiesOf(next),
      consume: (logs: Logs, ctx: ConsumeContext) => this.consume(next, logs, ctx),
    };
  }
}
