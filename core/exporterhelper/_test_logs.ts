/**
 * Test-only builders for batches whose records can be told apart (body = "rec-<n>").
 *
 * @module
 */

import { type Logs, newLogRecord, newResource, newScope, stringValue } from "../pdata/logs.ts";

/** A batch of one resource and scope with a record per id, body `rec-<id>` padded to `pad` bytes. */
export function logsWithIds(ids: readonly number[], resource = "svc", pad = 0): Logs {
  return {
    resourceLogs: [{
      resource: newResource([{ key: "service.name", value: stringValue(resource) }]),
      schemaUrl: "",
      scopeLogs: [{
        scope: newScope("test", "1"),
        schemaUrl: "",
        logRecords: ids.map((id) =>
          newLogRecord({
            timeUnixNano: 1_700_000_000_000_000_000n + BigInt(id),
            severityNumber: 9,
            body: stringValue(`rec-${id}`.padEnd(pad, ".")),
          })
        ),
      }],
    }],
  };
}

/** The ids of every record in `logs`, in order. */
export function idsOf(logs: Logs): number[] {
  const out: number[] = [];
  for (const rl of logs.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        if (r.body?.kind === "string") out.push(Number(/^rec-(\d+)/.exec(r.body.value)?.[1]));
      }
    }
  }
  return out;
}

/** `[from, to)` as a list. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
