/**
 * The OTLP/JSON encoder for logs: builds plain objects in the OTLP/JSON shape and serializes
 * them with the native `JSON.stringify`. (Measured: ~1.5× faster than string concatenation
 * once the concatenated rope is flattened for the wire.)
 *
 * Output follows the protobuf JSON mapping as OTLP specifies it: lowerCamelCase keys, fields
 * at their default value omitted, int64/fixed64 as decimal strings, enums as integers, bytes as
 * base64, trace and span ids as lowercase hex, non-finite doubles as "NaN"/"Infinity"/
 * "-Infinity", and -0 as `-0`. `resource`, `scope` and `KeyValue.value` are always written.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { AnyValue, KeyValue, LogRecord, Logs, ResourceLogs, ScopeLogs } from "./logs.ts";

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, "0"));

/**
 * Encodes bytes as standard base64 with padding. Buffer's native encoder: about 0.2 µs for 16
 * bytes or 1 KiB, where a JavaScript loop took 0.2 and 6 µs (checkpoints encode every file's
 * 1 KiB fingerprint).
 */
export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
}

// -0 is a valid JSON number, but JSON.stringify writes it as 0; a raw JSON value keeps it.
const rawJSON = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;
const NEGATIVE_ZERO: unknown = rawJSON ? rawJSON("-0") : 0;

function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

function double(v: number): unknown {
  if (v !== v) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (v === 0 && 1 / v < 0) return NEGATIVE_ZERO;
  return v;
}

type JsonObject = Record<string, unknown>;

function anyValue(v: AnyValue): JsonObject {
  switch (v.kind) {
    case "string":
      return { stringValue: v.value };
    case "bool":
      return { boolValue: v.value };
    case "int":
      return { intValue: String(BigInt.asIntN(64, v.value)) };
    case "double":
      return { doubleValue: double(v.value) };
    case "bytes":
      return { bytesValue: toBase64(v.value) };
    case "array": {
      const values = v.value;
      if (values.length === 0) return { arrayValue: {} };
      const out = new Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = anyValue(values[i]);
      return { arrayValue: { values: out } };
    }
    case "kvlist":
      if (v.value.length === 0) return { kvlistValue: {} };
      return { kvlistValue: { values: attributes(v.value) } };
    default:
      return {};
  }
}

function attributes(attrs: KeyValue[]): JsonObject[] {
  const out = new Array(attrs.length);
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i];
    out[i] = kv.key.length === 0
      ? { value: anyValue(kv.value) }
      : { key: kv.key, value: anyValue(kv.value) };
  }
  return out;
}

function logRecord(r: LogRecord): JsonObject {
  const o: JsonObject = {};
  if (r.timeUnixNano !== 0n) o.timeUnixNano = String(BigInt.asUintN(64, r.timeUnixNano));
  const sev = r.severityNumber | 0;
  if (sev !== 0) o.severityNumber = sev;
  if (r.severityText.length !== 0) o.severityText = r.severityText;
  if (r.body !== undefined) o.body = anyValue(r.body);
  if (r.attributes.length !== 0) o.attributes = attributes(r.attributes);
  const dropped = r.droppedAttributesCount >>> 0;
  if (dropped !== 0) o.droppedAttributesCount = dropped;
  const flags = r.flags >>> 0;
  if (flags !== 0) o.flags = flags;
  if (r.traceId.length === 16) o.traceId = hex(r.traceId);
  if (r.spanId.length === 8) o.spanId = hex(r.spanId);
  if (r.observedTimeUnixNano !== 0n) {
    o.observedTimeUnixNano = String(BigInt.asUintN(64, r.observedTimeUnixNano));
  }
  if (r.eventName.length !== 0) o.eventName = r.eventName;
  return o;
}

function scopeLogs(sl: ScopeLogs): JsonObject {
  const sc = sl.scope;
  const scope: JsonObject = {};
  if (sc.name.length !== 0) scope.name = sc.name;
  if (sc.version.length !== 0) scope.version = sc.version;
  if (sc.attributes.length !== 0) scope.attributes = attributes(sc.attributes);
  const dropped = sc.droppedAttributesCount >>> 0;
  if (dropped !== 0) scope.droppedAttributesCount = dropped;
  const o: JsonObject = { scope };
  const records = sl.logRecords;
  if (records.length !== 0) {
    const out = new Array(records.length);
    for (let i = 0; i < records.length; i++) out[i] = logRecord(records[i]);
    o.logRecords = out;
  }
  if (sl.schemaUrl.length !== 0) o.schemaUrl = sl.schemaUrl;
  return o;
}

function resourceLogs(rl: ResourceLogs): JsonObject {
  const res = rl.resource;
  const resource: JsonObject = {};
  if (res.attributes.length !== 0) resource.attributes = attributes(res.attributes);
  const dropped = res.droppedAttributesCount >>> 0;
  if (dropped !== 0) resource.droppedAttributesCount = dropped;
  const o: JsonObject = { resource };
  if (rl.scopeLogs.length !== 0) o.scopeLogs = rl.scopeLogs.map(scopeLogs);
  if (rl.schemaUrl.length !== 0) o.schemaUrl = rl.schemaUrl;
  return o;
}

/** Encodes a batch as an OTLP/JSON ExportLogsServiceRequest. */
export function writeRequestJson(logs: Logs): string {
  if (logs.resourceLogs.length === 0) return "{}";
  return JSON.stringify({ resourceLogs: logs.resourceLogs.map(resourceLogs) });
}
