/**
 * Wrappers that count records as upstream's obsreport does: accepted/refused per receiver,
 * incoming/outgoing per processor. Exporters count their own sends (their queue knows when
 * a record really left).
 *
 * @module
 */

import type { ConsumeContext, LogsConsumer } from "../consumer.ts";
import { logRecordCount, type Logs } from "../pdata/logs.ts";
import type { Labels, MetricsRegistry } from "../telemetry/metrics.ts";

/** Counts what a receiver hands on: accepted when the pipeline took it, refused when not. */
export function observeReceiver(
  next: LogsConsumer,
  metrics: MetricsRegistry,
  labels: Labels,
): LogsConsumer {
  const accepted = metrics.counter(
    "otelcol_receiver_accepted_log_records",
    "Number of log records successfully pushed into the pipeline.",
  );
  const refused = metrics.counter(
    "otelcol_receiver_refused_log_records",
    "Number of log records that could not be pushed into the pipeline.",
  );
  accepted.add(0, labels);
  refused.add(0, labels);
  return {
    mutatesData: next.mutatesData,
    async consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
      const n = logRecordCount(logs);
      try {
        await next.consume(logs, ctx);
      } catch (err) {
        refused.add(n, labels);
        throw err;
      }
      accepted.add(n, labels);
    },
  };
}

/** Counts records entering a processor (`incoming`) or leaving it (`outgoing`). */
export function observeProcessorItems(
  next: LogsConsumer,
  metrics: MetricsRegistry,
  labels: Labels,
  direction: "incoming" | "outgoing",
): LogsConsumer {
  const counter = metrics.counter(
    `otelcol_processor_${direction}_items`,
    `Number of items ${direction === "incoming" ? "passed to" : "emitted from"} the processor.`,
  );
  counter.add(0, labels);
  return {
    mutatesData: next.mutatesData,
    consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
      counter.add(logRecordCount(logs), labels);
      return next.consume(logs, ctx);
    },
  };
}
