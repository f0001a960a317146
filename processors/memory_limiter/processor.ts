/**
 * The `memory_limiter` processor: hands data on while the limiter allows, refuses it with a
 * retryable error while memory is above the soft limit (the otlp receiver answers 503 /
 * `Unavailable`, filelog waits and retries), and counts both as upstream does.
 *
 * @module
 */

import type { AdmissionGate, AdmissionRefusal } from "../../core/admission.ts";
import type { CreateSettings, Host, Processor } from "../../core/component.ts";
import { type ConsumeContext, type LogsConsumer, RetryableError } from "../../core/consumer.ts";
import { logRecordCount, type Logs } from "../../core/pdata/logs.ts";
import type { Counter, Labels } from "../../core/telemetry/metrics.ts";
import { DATA_REFUSED_MESSAGE, type MemoryLimiter } from "./limiter.ts";

/** Metric names, exactly as upstream's memorylimiterprocessor. */
export const MEMORY_LIMITER_METRICS = {
  accepted: "otelcol_processor_memory_limiter_accepted_log_records",
  refused: "otelcol_processor_memory_limiter_refused_log_records",
} as const;

/** One pipeline's instance; the limiter behind it may be shared with other pipelines. */
export class MemoryLimiterProcessor implements Processor, AdmissionGate {
  readonly mutatesData = false;
  readonly #limiter: MemoryLimiter;
  readonly #next: LogsConsumer;
  readonly #labels: Labels;
  readonly #accepted: Counter;
  readonly #refused: Counter;
  #host: Host | undefined;

  /** Wraps `next` behind `limiter`. */
  constructor(settings: CreateSettings, limiter: MemoryLimiter, next: LogsConsumer) {
    this.#limiter = limiter;
    this.#next = next;
    // Upstream labels these with the processor id only.
    this.#labels = { processor: settings.id.toString() };
    this.#accepted = settings.metrics.counter(
      MEMORY_LIMITER_METRICS.accepted,
      "Number of log records successfully pushed into the next component in the pipeline.",
    );
    this.#refused = settings.metrics.counter(
      MEMORY_LIMITER_METRICS.refused,
      "Number of log records that were rejected by the next component in the pipeline.",
    );
    this.#accepted.add(0, this.#labels);
    this.#refused.add(0, this.#labels);
  }

  /** Starts (or joins) the limiter's check loop. */
  async start(host: Host): Promise<void> {
    this.#host = host;
    await this.#limiter.start(host);
  }

  /** Leaves the check loop; the last user stops it. */
  async shutdown(): Promise<void> {
    const host = this.#host;
    this.#host = undefined;
    await this.#limiter.shutdown(host);
  }

  /**
   * For receivers, before they read a request (core/admission.ts): the refusal `consume` would
   * give now, with the next measurement as the time to retry. Counts nothing: no records
   * were read.
   */
  admission(): AdmissionRefusal | undefined {
    if (!this.#limiter.refuse()) return undefined;
    return {
      message: DATA_REFUSED_MESSAGE,
      retryAfterMs: Math.max(1000, this.#limiter.checkIntervalMs),
    };
  }

  /** Refuses with a {@linkcode RetryableError} while memory is above the soft limit. */
  consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
    const count = logRecordCount(logs);
    if (this.#limiter.refuse()) {
      this.#refused.add(count, this.#labels);
      return Promise.reject(new RetryableError(DATA_REFUSED_MESSAGE));
    }
    this.#accepted.add(count, this.#labels);
    return this.#next.consume(logs, ctx);
  }
}
