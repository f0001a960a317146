/**
 * Builds one `Logs` batch from entries: one ResourceLogs per distinct resource (entries
 * sharing a cached resource object are grouped without comparing), one ScopeLogs each.
 *
 * @module
 */

import type {
  AnyValue,
  KeyValue,
  LogRecord,
  Logs,
  ResourceLogs,
} from "../../../core/pdata/logs.ts";
import type { Entry, Value, ValueMap } from "../entry.ts";

const EMPTY = new Uint8Array(0);

/** Converts an entry value to an OTLP AnyValue (numbers are doubles, bigints ints). */
export function toAnyValue(v: Value): AnyValue {
  switch (typeof v) {
    case "string":
      return { kind: "string", value: v };
    case "number":
      return { kind: "double", value: v };
    case "bigint":
      return { kind: "int", value: v };
    case "boolean":
      return { kind: "bool", value: v };
  }
  if (v === null) return { kind: "empty" };
  if (v instanceof Uint8Array) return { kind: "bytes", value: v };
  if (Array.isArray(v)) return { kind: "array", value: v.map(toAnyValue) };
  return { kind: "kvlist", value: toKeyValues(v) };
}

/** Converts a map to OTLP attributes, in insertion order. */
export function toKeyValues(m: ValueMap): KeyValue[] {
  const out: KeyValue[] = [];
  for (const k in m) out.push({ key: k, value: toAnyValue(m[k]!) });
  return out;
}

/** Converts one entry to a log record. */
export function toLogRecord(e: Entry): LogRecord {
  return {
    timeUnixNano: e.timestamp,
    observedTimeUnixNano: e.observed,
    severityNumber: e.severity,
    severityText: e.severityText,
    body: e.body === undefined ? undefined : toAnyValue(e.body),
    attributes: toKeyValues(e.attributes),
    droppedAttributesCount: 0,
    flags: e.traceFlags ?? 0,
    traceId: e.traceId ?? EMPTY,
    spanId: e.spanId ?? EMPTY,
    eventName: "",
  };
}

function resourceKey(m: ValueMap): string {
  return JSON.stringify(
    Object.keys(m).sort().map((k) => [k, m[k]]),
    (_k, v) => typeof v === "bigint" ? `${v}n` : v,
  );
}

/** Accumulates entries into one batch. */
export class LogsBuilder {
  #logs: Logs = { resourceLogs: [] };
  #byRef = new Map<ValueMap, ResourceLogs>();
  #byKey = new Map<string, ResourceLogs>();
  #count = 0;

  /** Number of records added since the last `take`. */
  get count(): number {
    return this.#count;
  }

  /** Adds an entry. */
  add(e: Entry): void {
    const res = e.resource;
    let rl = e.resourceShared ? this.#byRef.get(res) : undefined;
    if (rl === undefined) {
      const key = resourceKey(res);
      rl = this.#byKey.get(key);
      if (rl === undefined) {
        rl = {
          resource: { attributes: toKeyValues(res), droppedAttributesCount: 0 },
          scopeLogs: [{
            scope: { name: "", version: "", attributes: [], droppedAttributesCount: 0 },
            logRecords: [],
            schemaUrl: "",
          }],
          schemaUrl: "",
        };
        this.#byKey.set(key, rl);
        this.#logs.resourceLogs.push(rl);
      }
      if (e.resourceShared) this.#byRef.set(res, rl);
    }
    rl.scopeLogs[0]!.logRecords.push(toLogRecord(e));
    this.#count++;
  }

  /** Returns the batch and starts a new one. */
  take(): Logs {
    const logs = this.#logs;
    this.#logs = { resourceLogs: [] };
    this.#byRef = new Map();
    this.#byKey = new Map();
    this.#count = 0;
    return logs;
  }
}
