/**
 * The OTLP/JSON decoder for logs: `JSON.parse`, then a checked walk into the data model.
 *
 * Lenient like upstream pdata's decoder: keys in lowerCamelCase or snake_case, int64 values as
 * strings or numbers, uint32/int32 values as numbers or strings, severity numbers also as enum
 * names, hex ids in any case, bytes in standard or URL-safe base64 with or without padding,
 * `null` meaning "not set", unknown fields ignored. Everything else that does not fit the
 * schema raises `OtlpDecodeError` naming the JSON path.
 *
 * Integers beyond 2^53 given as JSON numbers would lose precision in `JSON.parse`; when the
 * walk meets one, the text is parsed again with a reviver that reads such literals from their
 * source text, so they stay exact (the common, string-encoded case pays nothing).
 *
 * @module
 */

import type { AnyValue, KeyValue, LogRecord, Logs, ResourceLogs, ScopeLogs } from "./logs.ts";
import { SeverityNumber } from "./logs.ts";
import { MAX_ANY_VALUE_DEPTH, OtlpDecodeError } from "./otlp_error.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const EMPTY_BYTES = new Uint8Array(0);

/** A schema mismatch; `path` collects segments (innermost first) as it propagates up. */
class PathError extends Error {
  path: string[];
  constructor(message: string, segment?: string) {
    super(message);
    this.path = segment === undefined ? [] : [segment];
  }
}

/** Thrown when an int64 arrives as an unsafe JSON number: parse again exactly. */
class NeedsExactParse extends Error {}

// True during the second, exact parse: unsafe integers left as numbers (exponent notation
// such as 1e20) are then taken at their double value instead of triggering another parse.
let exact = false;

function at(e: unknown, segment: string): unknown {
  if (e instanceof PathError) e.path.push(segment);
  return e;
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object" && v !== null) return "an object";
  return String(v);
}

function isObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function list(v: Json, field: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PathError(`expected an array, got ${describe(v)}`, field);
  return v;
}

function object(v: Json, field?: string): Json {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new PathError(`expected an object, got ${describe(v)}`, field);
  return v;
}

function string(v: Json, field: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new PathError(`expected a string, got ${describe(v)}`, field);
  return v;
}

const DECIMAL = /^-?[0-9]+$/;

/** Parses an integer given as a JSON number, bigint (exact re-parse) or string. */
function integer(v: Json, field: string, min: bigint, max: bigint, kind: string): bigint {
  let b: bigint | undefined;
  if (typeof v === "number") {
    if (Number.isInteger(v)) {
      if (!exact && !Number.isSafeInteger(v)) throw new NeedsExactParse();
      b = BigInt(v);
    }
  } else if (typeof v === "bigint") {
    b = v;
  } else if (typeof v === "string") {
    if (DECIMAL.test(v)) {
      b = BigInt(v);
    } else {
      // The protobuf JSON mapping also allows exponent notation, e.g. "1e3".
      const n = v.trim() === "" ? NaN : Number(v);
      if (Number.isSafeInteger(n)) b = BigInt(n);
    }
  }
  if (b === undefined) {
    throw new PathError(
      `expected ${kind} as a number or decimal string, got ${describe(v)}`,
      field,
    );
  }
  if (b < min || b > max) throw new PathError(`${b} is out of range for ${kind}`, field);
  return b;
}

const U64_MAX = 0xffffffffffffffffn;
const I64_MIN = -0x8000000000000000n;
const I64_MAX = 0x7fffffffffffffffn;

function uint64(v: Json, field: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === "string" && v.length < 16 && DECIMAL.test(v) && v[0] !== "-") return BigInt(v);
  return integer(v, field, 0n, U64_MAX, "a uint64");
}

function int64(v: Json, field: string): bigint {
  if (v === undefined || v === null) return 0n;
  return integer(v, field, I64_MIN, I64_MAX, "an int64");
}

function uint32(v: Json, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && v >= 0 && v <= 0xffffffff && Number.isInteger(v)) return v;
  return Number(integer(v, field, 0n, 0xffffffffn, "a uint32"));
}

const SEVERITY_NAMES = new Map<string, number>(
  Object.entries(SeverityNumber).map(([k, v]) => [`SEVERITY_NUMBER_${k}`, v]),
);

function severity(v: Json, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && (v | 0) === v) return v;
  if (typeof v === "string" && SEVERITY_NAMES.has(v)) return SEVERITY_NAMES.get(v)!;
  return Number(integer(v, field, -0x80000000n, 0x7fffffffn, "a severity number (int32)"));
}

function double(v: Json, field: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string") {
    if (v === "NaN") return NaN;
    if (v === "Infinity") return Infinity;
    if (v === "-Infinity") return -Infinity;
    const n = v.trim() === "" ? NaN : Number(v);
    if (!Number.isNaN(n)) return n;
  }
  throw new PathError(
    `expected a number or "NaN", "Infinity", "-Infinity", got ${describe(v)}`,
    field,
  );
}

function bool(v: Json, field: string): boolean {
  if (typeof v === "boolean") return v;
  throw new PathError(`expected true or false, got ${describe(v)}`, field);
}

const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) NIBBLE[65 + i] = NIBBLE[97 + i] = 10 + i;

function hexId(v: Json, size: number, field: string): Uint8Array {
  const s = string(v, field);
  if (s.length === 0) return EMPTY_BYTES;
  if (s.length !== size * 2) {
    throw new PathError(`expected ${size * 2} hex digits or "", got ${describe(s)}`, field);
  }
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const a = s.charCodeAt(2 * i);
    const b = s.charCodeAt(2 * i + 1);
    const hi = a < 128 ? NIBBLE[a] : -1;
    const lo = b < 128 ? NIBBLE[b] : -1;
    if (hi < 0 || lo < 0) throw new PathError(`invalid hex digit in ${describe(s)}`, field);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const B64_VALUES = new Int8Array(128).fill(-1);
const B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
for (let i = 0; i < 62; i++) B64_VALUES[B64_ALPHABET.charCodeAt(i)] = i;
B64_VALUES[43] = B64_VALUES[45] = 62; // '+' and '-'
B64_VALUES[47] = B64_VALUES[95] = 63; // '/' and '_'

/** Decodes standard or URL-safe base64, padded or not; `undefined` if it is not base64. */
export function fromBase64(s: string): Uint8Array | undefined {
  let n = s.length;
  while (n > 0 && s.charCodeAt(n - 1) === 61) n--; // '='
  if (s.length - n > 2 || n % 4 === 1 || (s.length !== n && s.length % 4 !== 0)) return undefined;
  const out = new Uint8Array((n * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const d = c < 128 ? B64_VALUES[c] : -1;
    if (d < 0) return undefined;
    acc = (acc << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

function bytes(v: Json, field: string): Uint8Array {
  const s = string(v, field);
  const b = fromBase64(s);
  if (b === undefined) throw new PathError(`expected base64, got ${describe(s)}`, field);
  return b;
}

function anyValue(v: Json, depth: number): AnyValue {
  if (depth > MAX_ANY_VALUE_DEPTH) {
    throw new PathError(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  }
  if (v === undefined || v === null) return { kind: "empty" };
  if (!isObject(v)) throw new PathError(`expected an AnyValue object, got ${describe(v)}`);
  let x = v.stringValue ?? v.string_value;
  if (x !== undefined) return { kind: "string", value: string(x, "stringValue") };
  if ((x = v.intValue ?? v.int_value) !== undefined) {
    return { kind: "int", value: int64(x, "intValue") };
  }
  if ((x = v.boolValue ?? v.bool_value) !== undefined) {
    return { kind: "bool", value: bool(x, "boolValue") };
  }
  if ((x = v.doubleValue ?? v.double_value) !== undefined) {
    return { kind: "double", value: double(x, "doubleValue") };
  }
  if ((x = v.kvlistValue ?? v.kvlist_value) !== undefined) {
    try {
      const values = list(object(x)?.values, "values");
      try {
        return { kind: "kvlist", value: attributes(values, depth + 1) };
      } catch (e) {
        throw at(e, "values");
      }
    } catch (e) {
      throw at(e, "kvlistValue");
    }
  }
  if ((x = v.arrayValue ?? v.array_value) !== undefined) {
    const out: AnyValue[] = [];
    try {
      const values = list(object(x)?.values, "values");
      let i = 0;
      try {
        for (; i < values.length; i++) out.push(anyValue(values[i], depth + 1));
      } catch (e) {
        throw at(at(e, `[${i}]`), "values");
      }
    } catch (e) {
      throw at(e, "arrayValue");
    }
    return { kind: "array", value: out };
  }
  if ((x = v.bytesValue ?? v.bytes_value) !== undefined) {
    return { kind: "bytes", value: bytes(x, "bytesValue") };
  }
  return { kind: "empty" };
}

function attributes(v: Json[], depth: number): KeyValue[] {
  const out: KeyValue[] = [];
  let i = 0;
  try {
    for (; i < v.length; i++) {
      const kv = v[i];
      if (!isObject(kv)) throw new PathError(`expected a KeyValue object, got ${describe(kv)}`);
      const key = string(kv.key, "key");
      let value: AnyValue;
      try {
        value = anyValue(kv.value, depth);
      } catch (e) {
        throw at(e, "value");
      }
      out.push({ key, value });
    }
  } catch (e) {
    throw at(e, `[${i}]`);
  }
  return out;
}

function attributesField(o: Json, depth: number): KeyValue[] {
  const v = list(o.attributes, "attributes");
  if (v.length === 0) return [];
  try {
    return attributes(v, depth);
  } catch (e) {
    throw at(e, "attributes");
  }
}

function logRecord(o: Json): LogRecord {
  if (!isObject(o)) throw new PathError(`expected a LogRecord object, got ${describe(o)}`);
  let body: AnyValue | undefined;
  const b = o.body;
  if (b !== undefined && b !== null) {
    try {
      body = anyValue(b, 1);
    } catch (e) {
      throw at(e, "body");
    }
  }
  return {
    timeUnixNano: uint64(o.timeUnixNano ?? o.time_unix_nano, "timeUnixNano"),
    observedTimeUnixNano: uint64(
      o.observedTimeUnixNano ?? o.observed_time_unix_nano,
      "observedTimeUnixNano",
    ),
    severityNumber: severity(o.severityNumber ?? o.severity_number, "severityNumber"),
    severityText: string(o.severityText ?? o.severity_text, "severityText"),
    body,
    attributes: attributesField(o, 1),
    droppedAttributesCount: uint32(
      o.droppedAttributesCount ?? o.dropped_attributes_count,
      "droppedAttributesCount",
    ),
    flags: uint32(o.flags, "flags"),
    traceId: hexId(o.traceId ?? o.trace_id, 16, "traceId"),
    spanId: hexId(o.spanId ?? o.span_id, 8, "spanId"),
    eventName: string(o.eventName ?? o.event_name, "eventName"),
  };
}

function scopeLogs(o: Json): ScopeLogs {
  if (!isObject(o)) throw new PathError(`expected a ScopeLogs object, got ${describe(o)}`);
  const sc = object(o.scope, "scope") ?? {};
  let scopeAttributes: KeyValue[];
  try {
    scopeAttributes = attributesField(sc, 1);
  } catch (e) {
    throw at(e, "scope");
  }
  const logRecords = walkList(
    list(o.logRecords ?? o.log_records, "logRecords"),
    "logRecords",
    logRecord,
  );
  return {
    scope: {
      name: string(sc.name, "scope.name"),
      version: string(sc.version, "scope.version"),
      attributes: scopeAttributes,
      droppedAttributesCount: uint32(
        sc.droppedAttributesCount ?? sc.dropped_attributes_count,
        "scope.droppedAttributesCount",
      ),
    },
    logRecords,
    schemaUrl: string(o.schemaUrl ?? o.schema_url, "schemaUrl"),
  };
}

function resourceLogs(o: Json): ResourceLogs {
  if (!isObject(o)) throw new PathError(`expected a ResourceLogs object, got ${describe(o)}`);
  const res = object(o.resource, "resource") ?? {};
  let resourceAttributes: KeyValue[];
  try {
    resourceAttributes = attributesField(res, 1);
  } catch (e) {
    throw at(e, "resource");
  }
  const out = walkList(list(o.scopeLogs ?? o.scope_logs, "scopeLogs"), "scopeLogs", scopeLogs);
  return {
    resource: {
      attributes: resourceAttributes,
      droppedAttributesCount: uint32(
        res.droppedAttributesCount ?? res.dropped_attributes_count,
        "resource.droppedAttributesCount",
      ),
    },
    scopeLogs: out,
    schemaUrl: string(o.schemaUrl ?? o.schema_url, "schemaUrl"),
  };
}

function request(root: Json): Logs {
  if (!isObject(root)) {
    throw new PathError(`expected an ExportLogsServiceRequest object, got ${describe(root)}`);
  }
  const rls = list(root.resourceLogs ?? root.resource_logs, "resourceLogs");
  return { resourceLogs: walkList(rls, "resourceLogs", resourceLogs) };
}

/** The fields of an ExportLogsPartialSuccess, decoded by `readResponseJson`. */
export interface PartialSuccessFields {
  rejectedLogRecords: bigint;
  errorMessage: string;
}

function response(root: Json): PartialSuccessFields | undefined {
  if (!isObject(root)) {
    throw new PathError(`expected an ExportLogsServiceResponse object, got ${describe(root)}`);
  }
  const p = object(root.partialSuccess ?? root.partial_success, "partialSuccess");
  if (p === undefined) return undefined;
  try {
    return {
      rejectedLogRecords: int64(
        p.rejectedLogRecords ?? p.rejected_log_records,
        "rejectedLogRecords",
      ),
      errorMessage: string(p.errorMessage ?? p.error_message, "errorMessage"),
    };
  } catch (e) {
    throw at(e, "partialSuccess");
  }
}

function exactReviver(this: unknown, _key: string, value: unknown, context?: { source?: string }) {
  if (
    typeof value === "number" && !Number.isSafeInteger(value) && context?.source !== undefined &&
    DECIMAL.test(context.source)
  ) {
    return BigInt(context.source);
  }
  return value;
}

/**
 * Walks `items`, elements `first`… of the list field `name`; an error names its element as
 * `name[i]` (a decoder reading a long list a run at a time passes where the run starts).
 */
function walkList<T>(items: Json[], name: string, walk: (o: Json) => T, first = 0): T[] {
  const out: T[] = [];
  let i = 0;
  try {
    for (; i < items.length; i++) out.push(walk(items[i]));
  } catch (e) {
    throw at(at(e, `[${first + i}]`), name);
  }
  return out;
}

function parse<T>(text: string, what: string, walk: (root: Json) => T, prefix = ""): T {
  let root: Json;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new OtlpDecodeError(
      `Invalid OTLP JSON: ${(e as Error).message}; the body must be a JSON-encoded ${what}`,
    );
  }
  try {
    try {
      return walk(root);
    } catch (e) {
      if (!(e instanceof NeedsExactParse)) throw e;
      exact = true;
      try {
        return walk(JSON.parse(text, exactReviver as (k: string, v: unknown) => unknown));
      } finally {
        exact = false;
      }
    }
  } catch (e) {
    if (!(e instanceof PathError)) throw e;
    const path = [prefix, ...e.path.reverse()].filter((p) => p !== "").join(".")
      .replaceAll(".[", "[");
    throw new OtlpDecodeError(
      `Invalid OTLP JSON ${what}${path ? ` at ${path}` : ""}: ${e.message}`,
    );
  }
}

/** Decodes an OTLP/JSON ExportLogsServiceRequest; throws OtlpDecodeError when malformed. */
export function readRequestJson(text: string): Logs {
  return parse(text, "ExportLogsServiceRequest", request);
}

/**
 * Decodes a JSON array of ResourceLogs, elements `first`… of a request's `resourceLogs`
 * (errors name them so), for a decoder that reads a large request a run at a time.
 */
export function readResourceLogsJson(text: string, first: number): ResourceLogs[] {
  return parse(
    text,
    "ExportLogsServiceRequest",
    (root) => walkList(list(root, "resourceLogs"), "resourceLogs", resourceLogs, first),
  );
}

/**
 * Decodes a JSON array of LogRecords, elements `first`… of the `logRecords` of the ScopeLogs
 * at `scopePath` (such as `resourceLogs[0].scopeLogs[2]`, which errors name).
 */
export function readLogRecordsJson(text: string, scopePath: string, first: number): LogRecord[] {
  return parse(
    text,
    "ExportLogsServiceRequest",
    (root) => walkList(list(root, "logRecords"), "logRecords", logRecord, first),
    scopePath,
  );
}

/** Decodes an OTLP/JSON ExportLogsServiceResponse; `undefined` without partialSuccess. */
export function readResponseJson(text: string): PartialSuccessFields | undefined {
  return parse(text, "ExportLogsServiceResponse", response);
}
