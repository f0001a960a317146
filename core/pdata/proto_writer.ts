/**
 * The hand-written OTLP protobuf encoder for logs.
 *
 * Two passes over the batch: the size pass computes every length-delimited field's size and
 * records it in a flat table (in the order the write pass needs them, pre-order), then the
 * write pass fills one exactly-sized buffer, reading the sizes back in the same order. The two
 * passes must visit fields under identical conditions; `encodeRequest` checks that the final
 * position equals the computed size.
 *
 * Fields are written in field-number order with proto3 defaults omitted, as protoc-generated
 * code does, except that `ResourceLogs.resource`, `ScopeLogs.scope` and `KeyValue.value` are
 * always written (as upstream pdata does). Trace and span ids whose length is not 16 or 8 bytes
 * are invalid OTLP (receivers reject the whole request), so they are written as absent.
 *
 * @module
 */

import type { AnyValue, KeyValue, LogRecord, Logs, ResourceLogs, ScopeLogs } from "./logs.ts";
import { encodeUtf8Into, utf8Length, writeUtf8 } from "./utf8.ts";

// Strings longer than this are UTF-8-encoded once, in the size pass, into `arena` (with the
// native encodeInto), and copied in the write pass; shorter ones are measured and written by
// JS loops, which beat a native call's overhead only for short strings (measured: a 144-char
// body costs ~250 ns to measure plus ~260 ns to write in JS, ~125 + ~40 ns this way).
const LONG_STRING = 32;
const DEFAULT_SIZES = 1 << 12;
const DEFAULT_ARENA = 1 << 16;
const RETAIN_LIMIT = 1 << 22;

let sizes = new Int32Array(DEFAULT_SIZES);
let sn = 0; // next free slot in the size pass; next slot to read in the write pass
let arena = new Uint8Array(DEFAULT_ARENA);
let an = 0;

let out = new Uint8Array(0);
let dv = new DataView(out.buffer);
let pos = 0;

const scratch = new DataView(new ArrayBuffer(8));

function reserve(): number {
  if (sn === sizes.length) {
    const grown = new Int32Array(sizes.length * 2);
    grown.set(sizes);
    sizes = grown;
  }
  return sn++;
}

/** Bytes of a varint holding the unsigned 32-bit value `v`. */
export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of a varint holding the 64-bit value whose halves are `lo` and `hi` (unsigned). */
function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varintSize(lo);
  return Math.ceil((64 - Math.clz32(hi)) / 7);
}

/** Bytes of an int64 varint; negative values take 10. */
export function int64Size(v: bigint): number {
  if (v >= 0n && v < 0x80000000n) return varintSize(Number(v));
  scratch.setBigInt64(0, v, true);
  return varint64Size(scratch.getUint32(0, true), scratch.getUint32(4, true));
}

function int32Size(v: number): number {
  return v < 0 ? 10 : varintSize(v);
}

/** Size of a string field (tag, length, bytes); records the length for the write pass. */
function stringField(s: string): number {
  let len: number;
  if (s.length > LONG_STRING) {
    const need = an + s.length * 3;
    if (need > arena.length) {
      const grown = new Uint8Array(Math.max(need, arena.length * 2));
      grown.set(arena.subarray(0, an));
      arena = grown;
    }
    len = encodeUtf8Into(s, arena, an);
    // Reserve before indexing: reserve() may replace `sizes` with a larger array.
    const i = reserve();
    const j = reserve();
    sizes[i] = len;
    sizes[j] = an;
    an += len;
  } else {
    len = utf8Length(s);
    const i = reserve();
    sizes[i] = len;
  }
  return 1 + varintSize(len) + len;
}

function bytesField(len: number): number {
  return 1 + varintSize(len) + len;
}

function anyValueSize(v: AnyValue): number {
  const slot = reserve();
  let n = 0;
  switch (v.kind) {
    case "string":
      n = stringField(v.value);
      break;
    case "bool":
      n = 2;
      break;
    case "int":
      n = 1 + int64Size(v.value);
      break;
    case "double":
      n = 9;
      break;
    case "bytes":
      n = bytesField(v.value.length);
      break;
    case "array": {
      const inner = reserve();
      let m = 0;
      const values = v.value;
      for (let i = 0; i < values.length; i++) {
        const s = anyValueSize(values[i]);
        m += 1 + varintSize(s) + s;
      }
      sizes[inner] = m;
      n = 1 + varintSize(m) + m;
      break;
    }
    case "kvlist": {
      const inner = reserve();
      const m = attributesSize(v.value);
      sizes[inner] = m;
      n = 1 + varintSize(m) + m;
      break;
    }
  }
  sizes[slot] = n;
  return n;
}

function keyValueSize(kv: KeyValue): number {
  const slot = reserve();
  let n = kv.key.length === 0 ? 0 : stringField(kv.key);
  const s = anyValueSize(kv.value);
  n += 1 + varintSize(s) + s;
  sizes[slot] = n;
  return n;
}

function attributesSize(attrs: KeyValue[]): number {
  let n = 0;
  for (let i = 0; i < attrs.length; i++) {
    const s = keyValueSize(attrs[i]);
    n += 1 + varintSize(s) + s;
  }
  return n;
}

function logRecordSize(r: LogRecord): number {
  const slot = reserve();
  let n = 0;
  if (r.timeUnixNano !== 0n) n += 9;
  const sev = r.severityNumber | 0;
  if (sev !== 0) n += 1 + int32Size(sev);
  if (r.severityText.length !== 0) n += stringField(r.severityText);
  if (r.body !== undefined) {
    const s = anyValueSize(r.body);
    n += 1 + varintSize(s) + s;
  }
  n += attributesSize(r.attributes);
  const dropped = r.droppedAttributesCount >>> 0;
  if (dropped !== 0) n += 1 + varintSize(dropped);
  if ((r.flags >>> 0) !== 0) n += 5;
  if (r.traceId.length === 16) n += 18;
  if (r.spanId.length === 8) n += 10;
  if (r.observedTimeUnixNano !== 0n) n += 9;
  if (r.eventName.length !== 0) n += stringField(r.eventName);
  sizes[slot] = n;
  return n;
}

function scopeLogsSize(sl: ScopeLogs): number {
  const slot = reserve();
  const scope = sl.scope;
  const scopeSlot = reserve();
  let s = 0;
  if (scope.name.length !== 0) s += stringField(scope.name);
  if (scope.version.length !== 0) s += stringField(scope.version);
  s += attributesSize(scope.attributes);
  const dropped = scope.droppedAttributesCount >>> 0;
  if (dropped !== 0) s += 1 + varintSize(dropped);
  sizes[scopeSlot] = s;
  let n = 1 + varintSize(s) + s;
  const records = sl.logRecords;
  for (let i = 0; i < records.length; i++) {
    const r = logRecordSize(records[i]);
    n += 1 + varintSize(r) + r;
  }
  if (sl.schemaUrl.length !== 0) n += stringField(sl.schemaUrl);
  sizes[slot] = n;
  return n;
}

function resourceLogsSize(rl: ResourceLogs): number {
  const slot = reserve();
  const resourceSlot = reserve();
  let s = attributesSize(rl.resource.attributes);
  const dropped = rl.resource.droppedAttributesCount >>> 0;
  if (dropped !== 0) s += 1 + varintSize(dropped);
  sizes[resourceSlot] = s;
  let n = 1 + varintSize(s) + s;
  const scopes = rl.scopeLogs;
  for (let i = 0; i < scopes.length; i++) {
    const m = scopeLogsSize(scopes[i]);
    n += 1 + varintSize(m) + m;
  }
  if (rl.schemaUrl.length !== 0) n += stringField(rl.schemaUrl);
  sizes[slot] = n;
  return n;
}

/** Runs the size pass over a request and returns its encoded size; fills the size table. */
export function requestSize(logs: Logs): number {
  sn = 0;
  an = 0;
  let n = 0;
  const rls = logs.resourceLogs;
  for (let i = 0; i < rls.length; i++) {
    const s = resourceLogsSize(rls[i]);
    n += 1 + varintSize(s) + s;
  }
  return n;
}

// ---- write pass ----

function writeVarint(v: number): void {
  while (v > 0x7f) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
}

function writeVarint64(lo: number, hi: number): void {
  while (hi !== 0 || lo > 0x7f) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  out[pos++] = lo;
}

function writeInt64(v: bigint): void {
  if (v >= 0n && v < 0x80000000n) {
    writeVarint(Number(v));
    return;
  }
  scratch.setBigInt64(0, v, true);
  writeVarint64(scratch.getUint32(0, true), scratch.getUint32(4, true));
}

function writeInt32(v: number): void {
  if (v >= 0) writeVarint(v);
  else writeVarint64(v >>> 0, 0xffffffff);
}

/** Writes a string's length and bytes (the tag is already written). */
function writeString(s: string): void {
  const len = sizes[sn++];
  writeVarint(len);
  if (s.length > LONG_STRING) {
    const off = sizes[sn++];
    out.set(arena.subarray(off, off + len), pos);
    pos += len;
  } else {
    pos = writeUtf8(s, out, pos, len === s.length);
  }
}

function writeBytes(b: Uint8Array): void {
  const len = b.length;
  writeVarint(len);
  if (len <= 32) {
    for (let i = 0; i < len; i++) out[pos++] = b[i];
  } else {
    out.set(b, pos);
    pos += len;
  }
}

function writeFixed64(v: bigint): void {
  dv.setBigUint64(pos, v, true);
  pos += 8;
}

function writeAnyValue(v: AnyValue): void {
  writeVarint(sizes[sn++]);
  switch (v.kind) {
    case "string":
      out[pos++] = 0x0a;
      writeString(v.value);
      break;
    case "bool":
      out[pos++] = 0x10;
      out[pos++] = v.value ? 1 : 0;
      break;
    case "int":
      out[pos++] = 0x18;
      writeInt64(v.value);
      break;
    case "double":
      out[pos++] = 0x21;
      dv.setFloat64(pos, v.value, true);
      pos += 8;
      break;
    case "bytes":
      out[pos++] = 0x3a;
      writeBytes(v.value);
      break;
    case "array": {
      out[pos++] = 0x2a;
      writeVarint(sizes[sn++]);
      const values = v.value;
      for (let i = 0; i < values.length; i++) {
        out[pos++] = 0x0a;
        writeAnyValue(values[i]);
      }
      break;
    }
    case "kvlist":
      out[pos++] = 0x32;
      writeVarint(sizes[sn++]);
      writeAttributes(v.value, 0x0a);
      break;
  }
}

function writeAttributes(attrs: KeyValue[], tag: number): void {
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i];
    out[pos++] = tag;
    writeVarint(sizes[sn++]);
    if (kv.key.length !== 0) {
      out[pos++] = 0x0a;
      writeString(kv.key);
    }
    out[pos++] = 0x12;
    writeAnyValue(kv.value);
  }
}

function writeLogRecord(r: LogRecord): void {
  writeVarint(sizes[sn++]);
  if (r.timeUnixNano !== 0n) {
    out[pos++] = 0x09;
    writeFixed64(r.timeUnixNano);
  }
  const sev = r.severityNumber | 0;
  if (sev !== 0) {
    out[pos++] = 0x10;
    writeInt32(sev);
  }
  if (r.severityText.length !== 0) {
    out[pos++] = 0x1a;
    writeString(r.severityText);
  }
  if (r.body !== undefined) {
    out[pos++] = 0x2a;
    writeAnyValue(r.body);
  }
  writeAttributes(r.attributes, 0x32);
  const dropped = r.droppedAttributesCount >>> 0;
  if (dropped !== 0) {
    out[pos++] = 0x38;
    writeVarint(dropped);
  }
  const flags = r.flags >>> 0;
  if (flags !== 0) {
    out[pos++] = 0x45;
    dv.setUint32(pos, flags, true);
    pos += 4;
  }
  if (r.traceId.length === 16) {
    out[pos++] = 0x4a;
    writeBytes(r.traceId);
  }
  if (r.spanId.length === 8) {
    out[pos++] = 0x52;
    writeBytes(r.spanId);
  }
  if (r.observedTimeUnixNano !== 0n) {
    out[pos++] = 0x59;
    writeFixed64(r.observedTimeUnixNano);
  }
  if (r.eventName.length !== 0) {
    out[pos++] = 0x62;
    writeString(r.eventName);
  }
}

function writeScopeLogs(sl: ScopeLogs): void {
  writeVarint(sizes[sn++]);
  const scope = sl.scope;
  out[pos++] = 0x0a;
  writeVarint(sizes[sn++]);
  if (scope.name.length !== 0) {
    out[pos++] = 0x0a;
    writeString(scope.name);
  }
  if (scope.version.length !== 0) {
    out[pos++] = 0x12;
    writeString(scope.version);
  }
  writeAttributes(scope.attributes, 0x1a);
  const dropped = scope.droppedAttributesCount >>> 0;
  if (dropped !== 0) {
    out[pos++] = 0x20;
    writeVarint(dropped);
  }
  const records = sl.logRecords;
  for (let i = 0; i < records.length; i++) {
    out[pos++] = 0x12;
    writeLogRecord(records[i]);
  }
  if (sl.schemaUrl.length !== 0) {
    out[pos++] = 0x1a;
    writeString(sl.schemaUrl);
  }
}

function writeResourceLogs(rl: ResourceLogs): void {
  writeVarint(sizes[sn++]);
  out[pos++] = 0x0a;
  writeVarint(sizes[sn++]);
  writeAttributes(rl.resource.attributes, 0x0a);
  const dropped = rl.resource.droppedAttributesCount >>> 0;
  if (dropped !== 0) {
    out[pos++] = 0x10;
    writeVarint(dropped);
  }
  const scopes = rl.scopeLogs;
  for (let i = 0; i < scopes.length; i++) {
    out[pos++] = 0x12;
    writeScopeLogs(scopes[i]);
  }
  if (rl.schemaUrl.length !== 0) {
    out[pos++] = 0x1a;
    writeString(rl.schemaUrl);
  }
}

/** Encodes `logs` as an ExportLogsServiceRequest. */
export function encodeRequest(logs: Logs): Uint8Array {
  const total = requestSize(logs);
  const slots = sn;
  const buf = new Uint8Array(total);
  out = buf;
  dv = new DataView(buf.buffer);
  pos = 0;
  sn = 0;
  try {
    const rls = logs.resourceLogs;
    for (let i = 0; i < rls.length; i++) {
      out[pos++] = 0x0a;
      writeResourceLogs(rls[i]);
    }
    if (pos !== total || sn !== slots) {
      // Only reachable if the batch was mutated during encoding or the passes disagree.
      throw new Error(
        `OTLP encoder wrote ${pos} bytes and ${sn} sizes, expected ${total} and ${slots}`,
      );
    }
  } finally {
    out = new Uint8Array(0);
    dv = new DataView(out.buffer);
    if (arena.length > RETAIN_LIMIT) arena = new Uint8Array(DEFAULT_ARENA);
    if (sizes.length > RETAIN_LIMIT) sizes = new Int32Array(DEFAULT_SIZES);
  }
  return buf;
}
