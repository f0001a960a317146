/**
 * The logs data model: plain objects shaped like OTLP's ResourceLogs → ScopeLogs → LogRecord.
 *
 * Field names follow the OTLP JSON mapping (lowerCamelCase). Timestamps and int64 values are
 * `bigint` because nanosecond timestamps exceed 2^53 and must round-trip exactly.
 *
 * @module
 */

/** A value of any OTLP type; `empty` is an AnyValue message with no field set. */
export type AnyValue =
  | { readonly kind: "string"; value: string }
  | { readonly kind: "bool"; value: boolean }
  | { readonly kind: "int"; value: bigint }
  | { readonly kind: "double"; value: number }
  | { readonly kind: "bytes"; value: Uint8Array }
  | { readonly kind: "array"; value: AnyValue[] }
  | { readonly kind: "kvlist"; value: KeyValue[] }
  | { readonly kind: "empty" };

/** One attribute; OTLP allows repeated keys on the wire, so attributes are a list. */
export interface KeyValue {
  key: string;
  value: AnyValue;
}

/** The entity that produced the logs (a pod, a node, a service). */
export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

/** The library or component that produced the logs. */
export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

/** One log record. Trace and span ids are empty arrays when absent, else 16 and 8 bytes. */
export interface LogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  /** `undefined` when the record has no body at all. */
  body: AnyValue | undefined;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  traceId: Uint8Array;
  spanId: Uint8Array;
  eventName: string;
}

/** Log records that share one instrumentation scope. */
export interface ScopeLogs {
  scope: InstrumentationScope;
  logRecords: LogRecord[];
  schemaUrl: string;
}

/** Log records that share one resource. */
export interface ResourceLogs {
  resource: Resource;
  scopeLogs: ScopeLogs[];
  schemaUrl: string;
}

/** A batch of logs as it moves through a pipeline (an ExportLogsServiceRequest). */
export interface Logs {
  resourceLogs: ResourceLogs[];
}

/** Severity numbers as in the OTLP SeverityNumber enum. */
export const SeverityNumber = {
  UNSPECIFIED: 0,
  TRACE: 1,
  TRACE2: 2,
  TRACE3: 3,
  TRACE4: 4,
  DEBUG: 5,
  DEBUG2: 6,
  DEBUG3: 7,
  DEBUG4: 8,
  INFO: 9,
  INFO2: 10,
  INFO3: 11,
  INFO4: 12,
  WARN: 13,
  WARN2: 14,
  WARN3: 15,
  WARN4: 16,
  ERROR: 17,
  ERROR2: 18,
  ERROR3: 19,
  ERROR4: 20,
  FATAL: 21,
  FATAL2: 22,
  FATAL3: 23,
  FATAL4: 24,
} as const;

const EMPTY_BYTES = new Uint8Array(0);

/** Returns an empty batch. */
export function newLogs(): Logs {
  return { resourceLogs: [] };
}

/** Returns a resource with the given attributes. */
export function newResource(attributes: KeyValue[] = []): Resource {
  return { attributes, droppedAttributesCount: 0 };
}

/** Returns an instrumentation scope with the given name and version. */
export function newScope(name = "", version = ""): InstrumentationScope {
  return { name, version, attributes: [], droppedAttributesCount: 0 };
}

/** Returns a log record with every field at its zero value (the decoder's starting point). */
export function emptyLogRecord(): LogRecord {
  return {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: "",
    body: undefined,
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: EMPTY_BYTES,
    spanId: EMPTY_BYTES,
    eventName: "",
  };
}

/** Returns a log record with every field at its zero value, overridden by `fields`. */
export function newLogRecord(fields: Partial<LogRecord> = {}): LogRecord {
  // One literal with every field, so all records share one object shape (Object.assign onto
  // emptyLogRecord() took about twice as long per record).
  return {
    timeUnixNano: fields.timeUnixNano ?? 0n,
    observedTimeUnixNano: fields.observedTimeUnixNano ?? 0n,
    severityNumber: fields.severityNumber ?? 0,
    severityText: fields.severityText ?? "",
    body: fields.body,
    attributes: fields.attributes ?? [],
    droppedAttributesCount: fields.droppedAttributesCount ?? 0,
    flags: fields.flags ?? 0,
    traceId: fields.traceId ?? EMPTY_BYTES,
    spanId: fields.spanId ?? EMPTY_BYTES,
    eventName: fields.eventName ?? "",
  };
}

/** Counts the log records in a batch. */
export function logRecordCount(logs: Logs): number {
  // A batch still held encoded (encoded_logs.ts) knows its count; reading it would decode it.
  const encoded = (logs as { readonly encodedRecords?: number }).encodedRecords;
  if (encoded !== undefined) return encoded;
  let n = 0;
  for (const rl of logs.resourceLogs) {
    for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  }
  return n;
}

/** Wraps a string as an AnyValue. */
export function stringValue(value: string): AnyValue {
  return { kind: "string", value };
}

/** Finds the value of the first attribute with `key`, or `undefined`. */
export function getAttribute(attributes: readonly KeyValue[], key: string): AnyValue | undefined {
  for (const kv of attributes) if (kv.key === key) return kv.value;
  return undefined;
}

/** Sets `key` to `value`, replacing the first attribute with that key or appending one. */
export function setAttribute(attributes: KeyValue[], key: string, value: AnyValue): void {
  for (const kv of attributes) {
    if (kv.key === key) {
      kv.value = value;
      return;
    }
  }
  attributes.push({ key, value });
}

/** Deep-copies an AnyValue (byte arrays are copied too). */
export function cloneValue(v: AnyValue): AnyValue {
  switch (v.kind) {
    case "bytes":
      return { kind: "bytes", value: v.value.slice() };
    case "array":
      return { kind: "array", value: v.value.map(cloneValue) };
    case "kvlist":
      return { kind: "kvlist", value: cloneAttributes(v.value) };
    default:
      return { ...v };
  }
}

/** Deep-copies a list of attributes. */
export function cloneAttributes(attributes: readonly KeyValue[]): KeyValue[] {
  return attributes.map((kv) => ({ key: kv.key, value: cloneValue(kv.value) }));
}

/** Deep-copies a log record. */
export function cloneLogRecord(r: LogRecord): LogRecord {
  return {
    ...r,
    body: r.body === undefined ? undefined : cloneValue(r.body),
    attributes: cloneAttributes(r.attributes),
    traceId: r.traceId.slice(),
    spanId: r.spanId.slice(),
  };
}

/** Deep-copies a resource. */
export function cloneResource(r: Resource): Resource {
  return {
    attributes: cloneAttributes(r.attributes),
    droppedAttributesCount: r.droppedAttributesCount,
  };
}

/** Deep-copies an instrumentation scope. */
export function cloneScope(s: InstrumentationScope): InstrumentationScope {
  return { ...s, attributes: cloneAttributes(s.attributes) };
}

/** Deep-copies a batch, so a consumer that mutates it cannot affect another's copy. */
export function cloneLogs(logs: Logs): Logs {
  // A batch still held encoded is cloned as its bytes, which nobody changes.
  const encoded = (logs as { cloneEncoded?: () => Logs | undefined }).cloneEncoded?.();
  if (encoded !== undefined) return encoded;
  return {
    resourceLogs: logs.resourceLogs.map((rl) => ({
      schemaUrl: rl.schemaUrl,
      resource: cloneResource(rl.resource),
      scopeLogs: rl.scopeLogs.map((sl) => ({
        schemaUrl: sl.schemaUrl,
        scope: cloneScope(sl.scope),
        logRecords: sl.logRecords.map(cloneLogRecord),
      })),
    })),
  };
}
