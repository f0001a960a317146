/**
 * Measuring, merging and splitting batches of logs, for the queue's `sizer` and for
 * batching (the exporter's `sending_queue::batch` and the `batch` processor).
 *
 * @module
 */

import { logsRequestSize } from "../pdata/otlp_proto.ts";
import {
  cloneAttributes,
  type InstrumentationScope,
  type LogRecord,
  logRecordCount,
  type Logs,
  type Resource,
  type ResourceLogs,
  type ScopeLogs,
} from "../pdata/logs.ts";
import type { SizerType } from "./config.ts";

/** Measures `logs` in the unit of `sizer`: 1 per request, log records, or protobuf bytes. */
export function sizeOf(sizer: SizerType, logs: Logs): number {
  if (sizer === "requests") return 1;
  if (sizer === "items") return logRecordCount(logs);
  return logsRequestSize(logs);
}

/** Moves every resource of `from` to the end of `into` (no copy; `from` must not be reused). */
export function appendLogs(into: Logs, from: Logs): void {
  for (const rl of from.resourceLogs) into.resourceLogs.push(rl);
}

// Length prefixes of the resource and scope envelopes grow with their content (varints of
// up to 5 bytes); these margins keep byte estimates on the safe side.
const RESOURCE_SLACK = 4;
const SCOPE_SLACK = 4;

function cloneResource(r: Resource): Resource {
  return {
    attributes: cloneAttributes(r.attributes),
    droppedAttributesCount: r.droppedAttributesCount,
  };
}

function cloneScope(s: InstrumentationScope): InstrumentationScope {
  return { ...s, attributes: cloneAttributes(s.attributes) };
}

function resourceEnvelope(rl: ResourceLogs): number {
  return logsRequestSize({ resourceLogs: [{ ...rl, scopeLogs: [] }] }) + RESOURCE_SLACK;
}

function scopeEnvelope(rl: ResourceLogs, sl: ScopeLogs): number {
  const base = { ...rl, scopeLogs: [] };
  return logsRequestSize({ resourceLogs: [{ ...base, scopeLogs: [{ ...sl, logRecords: [] }] }] }) -
    logsRequestSize({ resourceLogs: [base] }) + SCOPE_SLACK;
}

const EMPTY_ENVELOPE: Logs = {
  resourceLogs: [{
    resource: { attributes: [], droppedAttributesCount: 0 },
    schemaUrl: "",
    scopeLogs: [{
      scope: { name: "", version: "", attributes: [], droppedAttributesCount: 0 },
      schemaUrl: "",
      logRecords: [],
    }],
  }],
};

/** Bytes one record adds inside its scope (its field, and any growth of the prefixes). */
export function recordSize(r: LogRecord): number {
  const empty = emptyEnvelopeSize();
  const sl = EMPTY_ENVELOPE.resourceLogs[0]!.scopeLogs[0]!;
  sl.logRecords = [r];
  try {
    return logsRequestSize(EMPTY_ENVELOPE) - empty;
  } finally {
    sl.logRecords = [];
  }
}

let emptySize = -1;
function emptyEnvelopeSize(): number {
  if (emptySize < 0) emptySize = logsRequestSize(EMPTY_ENVELOPE);
  return emptySize;
}

/**
 * Removes a batch from the front of `logs` holding at most `limit` in `sizer` units (but
 * always at least one record) and returns it; the rest stays in `logs`. When the cut falls
 * inside a resource or scope, the removed part gets its own copy of that resource or scope.
 */
export function takeFront(logs: Logs, limit: number, sizer: "items" | "bytes"): Logs {
  const out: Logs = { resourceLogs: [] };
  const bytes = sizer === "bytes";
  let used = 0;
  let records = 0;
  const fits = (n: number): boolean => records === 0 || used + n <= limit;
  while (logs.resourceLogs.length > 0) {
    const rl = logs.resourceLogs[0]!;
    const rlCost = bytes ? resourceEnvelope(rl) : 0;
    if (!fits(rlCost)) break;
    used += rlCost;
    const taken: ScopeLogs[] = [];
    let whole = true;
    while (rl.scopeLogs.length > 0) {
      const sl = rl.scopeLogs[0]!;
      const slCost = bytes ? scopeEnvelope(rl, sl) : 0;
      if (!fits(slCost)) {
        whole = false;
        break;
      }
      used += slCost;
      let i = 0;
      for (; i < sl.logRecords.length; i++) {
        const cost = bytes ? recordSize(sl.logRecords[i]!) : 1;
        if (!fits(cost)) break;
        used += cost;
        records++;
      }
      if (i === sl.logRecords.length) {
        taken.push(sl);
        rl.scopeLogs.shift();
        continue;
      }
      if (i > 0) {
        taken.push({
          scope: cloneScope(sl.scope),
          schemaUrl: sl.schemaUrl,
          logRecords: sl.logRecords.slice(0, i),
        });
        sl.logRecords = sl.logRecords.slice(i);
      }
      whole = false;
      break;
    }
    if (whole) {
      logs.resourceLogs.shift();
      out.resourceLogs.push({ ...rl, scopeLogs: taken });
      continue;
    }
    if (taken.length > 0) {
      out.resourceLogs.push({
        resource: cloneResource(rl.resource),
        schemaUrl: rl.schemaUrl,
        scopeLogs: taken,
      });
    }
    break;
  }
  return out;
}
