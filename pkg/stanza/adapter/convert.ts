/**
 * Builds one `Logs` batch from entries: one ResourceLogs per distinct resource (entries
 * sharing a cached resource object are grouped without comparing), one ScopeLogs each,
 * encoded record by record as entries arrive.
 *
 * @module
 */

import { EncodedLogs } from "../../../core/pdata/encoded_logs.ts";
import type {
  AnyValue,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Logs,
  Resource,
} from "../../../core/pdata/logs.ts";
import {
  EncodedRecords,
  type PlainLogRecord,
  resourceLogsHeader,
} from "../../../core/pdata/otlp_proto.ts";
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

interface Group {
  readonly resource: Resource;
  /** Encoded as they arrive, or (for a pipeline that changes data) kept as objects. */
  readonly records: EncodedRecords | LogRecord[];
}

const EMPTY_SCOPE: InstrumentationScope = {
  name: "",
  version: "",
  attributes: [],
  droppedAttributesCount: 0,
};

/**
 * Accumulates entries into one batch, one ResourceLogs per distinct resource. With `encode`,
 * each record is encoded as it is added, so a batch waiting for delivery holds bytes, not
 * objects (see core/pdata/encoded_logs.ts), and `take` hands it on as
 * {@linkcode EncodedLogs}. Without it (for a pipeline whose processors change records, which
 * would decode the bytes again at once), `take` hands on objects.
 */
export class LogsBuilder {
  readonly #encode: boolean;
  #groups: Group[] = [];
  #byRef = new Map<ValueMap, Group>();
  #byKey = new Map<string, Group>();
  #count = 0;

  /** A builder that encodes records as they arrive, or not. */
  constructor(encode: boolean) {
    this.#encode = encode;
  }

  /** Number of records added since the last `take`. */
  get count(): number {
    return this.#count;
  }

  /** Whether records are encoded as they arrive. */
  get encodes(): boolean {
    return this.#encode;
  }

  /** Adds an entry. */
  add(e: Entry): void {
    const group = this.#group(e.resource, e.resourceShared);
    if (Array.isArray(group.records)) group.records.push(toLogRecord(e));
    else group.records.add(e); // straight from the entry's values, no LogRecord made
    this.#count++;
  }

  /**
   * Adds a record whose body is the string with the valid UTF-8 bytes `text[start, end)`, of a
   * shared `resource` (the line lane, see pkg/stanza/raw_line.ts); only for a builder that
   * {@linkcode encodes}.
   */
  addWithText(
    resource: ValueMap,
    record: PlainLogRecord,
    text: Uint8Array,
    start: number,
    end: number,
  ): void {
    (this.#group(resource, true).records as EncodedRecords).addWithText(record, text, start, end);
    this.#count++;
  }

  #group(res: ValueMap, shared: boolean): Group {
    let group = shared ? this.#byRef.get(res) : undefined;
    if (group === undefined) {
      const key = resourceKey(res);
      group = this.#byKey.get(key);
      if (group === undefined) {
        group = {
          resource: { attributes: toKeyValues(res), droppedAttributesCount: 0 },
          records: this.#encode ? new EncodedRecords() : [],
        };
        this.#byKey.set(key, group);
        this.#groups.push(group);
      }
      if (shared) this.#byRef.set(res, group);
    }
    return group;
  }

  /** Returns the batch and starts a new one. */
  take(): Logs {
    const logs = this.#encode ? this.#encoded() : this.#objects();
    this.#groups = [];
    this.#byRef = new Map();
    this.#byKey = new Map();
    this.#count = 0;
    return logs;
  }

  #encoded(): Logs {
    const pieces: Uint8Array[] = [];
    for (const g of this.#groups) {
      const records = g.records as EncodedRecords;
      pieces.push(resourceLogsHeader(g.resource, EMPTY_SCOPE, records.byteLength));
      pieces.push(...records.pieces());
    }
    return new EncodedLogs(pieces, this.#count);
  }

  #objects(): Logs {
    return {
      resourceLogs: this.#groups.map((g) => ({
        resource: g.resource,
        scopeLogs: [{
          scope: { ...EMPTY_SCOPE, attributes: [] },
          logRecords: g.records as LogRecord[],
          schemaUrl: "",
        }],
        schemaUrl: "",
      })),
    };
  }
}
