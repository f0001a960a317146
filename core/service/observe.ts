/**
 * Wrappers that count records as upstream's processorhelper does: incoming/outgoing per
 * processor. Receivers count through core/receiverhelper and exporters their own sends
 * (their queue knows when a record really left).
 *
 * @module
 */

import { capabilitiesOf, type ConsumeContext, type LogsConsumer } from "../consumer.ts";
import { logRecordCount, type Logs } from "../pdata/logs.ts";
import type { Labels, MetricsRegistry } from "../telemetry/metrics.ts";

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
    ...capabilitiesOf(next),
    consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
      counter.add(logRecordCount(logs), labels);
      return next.consume(logs, ctx);
    },
  };
}
