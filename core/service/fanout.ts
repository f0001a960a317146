/**
 * Fan-out: one batch to several consumers. Consumers that change data get their own deep
 * copy, so branches never see each other's changes; read-only consumers share the original.
 *
 * @module
 */

import type { ConsumeContext, LogsConsumer } from "../consumer.ts";
import { cloneLogs, type Logs } from "../pdata/logs.ts";

/** Returns one consumer that hands each batch to all `consumers` and waits for every one. */
export function fanout(consumers: readonly LogsConsumer[]): LogsConsumer {
  if (consumers.length === 1) return consumers[0]!;
  const mutatesData = consumers.some((c) => c.mutatesData);
  return {
    mutatesData: false,
    async consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
      // Copies are made before any consumer runs, so none can see another's changes.
      const inputs = consumers.map((c) => (mutatesData && c.mutatesData ? cloneLogs(logs) : logs));
      const results = await Promise.allSettled(consumers.map((c, i) => c.consume(inputs[i]!, ctx)));
      const errors = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) {
        throw new AggregateError(errors, errors.map((e) => (e as Error)?.message ?? e).join("; "));
      }
    },
  };
}
