/**
 * The hand-written OTLP protobuf encoder for logs.
 *
 * `encodeRequest` writes in one forward pass. A length-delimited field's length is only known
 * after its content is written, so each one reserves the number of bytes its length will
 * probably take (a guess from what is cheap to know: a string's UTF-16 length, a record's body
 * length), writes the content, then writes the length into the reserved bytes. When the guess
 * was wrong the content is moved by the difference (`copyWithin`); with the guesses below that
 * happens rarely and mostly for small fields, so it costs far less than a separate size pass.
 *
 * `requestSize` computes the same size without writing, for the bytes sizer.
 *
 * Fields are written in field-number order with proto3 defaults omitted, as protoc-generated
 * code does, except that `ResourceLogs.resource`, `ScopeLogs.scope` and `KeyValue.value` are
 * always written (as upstream pdata does). Trace and span ids whose length is not 16 or 8 bytes
 * are invalid OTLP (receivers reject the whole request), so they are written as absent.
 *
 * @module
 */

import type {
  AnyValue,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Logs,
  Resource,
  ResourceLogs,
  ScopeLogs,
} from "./logs.ts";
import { logRecordCount } from "./logs.ts";
import { encodeUtf8Into, utf8Length, writeUtf8 } from "./utf8.ts";

// Strings longer than this are written with the native TextEncoder.encodeInto; shorter ones
// by a JS loop, which beats the native call's overhead only for short strings.
const LONG_STRING = 32;
// A ResourceLogs or ScopeLogs usually holds between 16 KiB and 2 MiB: a 3-byte length.
const ENVELOPE_GUESS = 3;
// The first buffer of a request is sized from the last one's bytes per record, but never
// larger than this or the last request's size: a request of a few huge records must not size
// the next one of many small records. A request that needs more grows its buffer by doubling.
const FIRST_BUFFER_MAX = 16 << 20;

let out = new Uint8Array(0);
let dv = new DataView(out.buffer);
let pos = 0;
/** Bytes per record and size of the last request encoded: size the next one's first buffer. */
let bytesPerRecord = 256;
let lastSize = 0;

const scratch = new DataView(new ArrayBuffer(8));
const textDecoder = new TextDecoder();

// ---- sizes ----

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

/** Size of a length-delimited field (tag, length, content). */
function delimited(len: number): number {
  return 1 + varintSize(len) + len;
}

function anyValueSize(v: AnyValue): number {
  switch (v.kind) {
    case "string":
      return delimited(utf8Length(v.value));
    case "bool":
      return 2;
    case "int":
      return 1 + int64Size(v.value);
    case "double":
      return 9;
    case "bytes":
      return delimited(v.value.length);
    case "array": {
      let m = 0;
      const values = v.value;
      for (let i = 0; i < values.length; i++) m += delimited(anyValueSize(values[i]));
      return delimited(m);
    }
    case "kvlist":
      return delimited(attributesSize(v.value));
    case "empty":
      return 0;
  }
}

function keyValueSize(kv: KeyValue): number {
  const key = kv.key.length === 0 ? 0 : delimited(utf8Length(kv.key));
  return key + delimited(anyValueSize(kv.value));
}

function attributesSize(attrs: KeyValue[]): number {
  let n = 0;
  for (let i = 0; i < attrs.length; i++) n += delimited(keyValueSize(attrs[i]));
  return n;
}

function logRecordSize(r: LogRecord): number {
  let n = 0;
  if (r.timeUnixNano !== 0n) n += 9;
  const sev = r.severityNumber | 0;
  if (sev !== 0) n += 1 + int32Size(sev);
  if (r.severityText.length !== 0) n += delimited(utf8Length(r.severityText));
  if (r.body !== undefined) n += delimited(anyValueSize(r.body));
  n += attributesSize(r.attributes);
  const dropped = r.droppedAttributesCount >>> 0;
  if (dropped !== 0) n += 1 + varintSize(dropped);
  if ((r.flags >>> 0) !== 0) n += 5;
  if (r.traceId.length === 16) n += 18;
  if (r.spanId.length === 8) n += 10;
  if (r.observedTimeUnixNano !== 0n) n += 9;
  if (r.eventName.length !== 0) n += delimited(utf8Length(r.eventName));
  return n;
}

function scopeLogsSize(sl: ScopeLogs): number {
  const scope = sl.scope;
  let s = 0;
  if (scope.name.length !== 0) s += delimited(utf8Length(scope.name));
  if (scope.version.length !== 0) s += delimited(utf8Length(scope.version));
  s += attributesSize(scope.attributes);
  const dropped = scope.droppedAttributesCount >>> 0;
  if (dropped !== 0) s += 1 + varintSize(dropped);
  let n = delimited(s);
  const records = sl.logRecords;
  for (let i = 0; i < records.length; i++) n += delimited(logRecordSize(records[i]));
  if (sl.schemaUrl.length !== 0) n += delimited(utf8Length(sl.schemaUrl));
  return n;
}

function resourceLogsSize(rl: ResourceLogs): number {
  let s = attributesSize(rl.resource.attributes);
  const dropped = rl.resource.droppedAttributesCount >>> 0;
  if (dropped !== 0) s += 1 + varintSize(dropped);
  let n = delimited(s);
  const scopes = rl.scopeLogs;
  for (let i = 0; i < scopes.length; i++) n += delimited(scopeLogsSize(scopes[i]));
  if (rl.schemaUrl.length !== 0) n += delimited(utf8Length(rl.schemaUrl));
  return n;
}

/** Returns the encoded size of a request, without encoding it. */
export function requestSize(logs: Logs): number {
  let n = 0;
  const rls = logs.resourceLogs;
  for (let i = 0; i < rls.length; i++) n += delimited(resourceLogsSize(rls[i]));
  return n;
}

// ---- writing ----

/** Makes room for `n` more bytes after `pos`. */
function ensure(n: number): void {
  if (pos + n > out.length) {
    const grown = new Uint8Array(Math.max(out.length * 2, pos + n));
    grown.set(out.subarray(0, pos));
    out = grown;
    dv = new DataView(grown.buffer);
  }
}

/** Reserves `guess` bytes for a length and returns where they start. */
function openLength(guess: number): number {
  ensure(guess);
  const at = pos;
  pos += guess;
  return at;
}

/**
 * Writes the length of the content written since `openLength(guess)` returned `at`, moving
 * the content first when the length takes a different number of bytes than reserved.
 */
function closeLength(at: number, guess: number): void {
  const start = at + guess;
  let len = pos - start;
  const need = varintSize(len);
  if (need !== guess) {
    if (need > guess) ensure(need - guess);
    out.copyWithin(at + need, start, pos);
    pos += need - guess;
  }
  let p = at;
  while (len > 0x7f) {
    out[p++] = (len & 0x7f) | 0x80;
    len >>>= 7;
  }
  out[p] = len;
}

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

/** Writes a string field: tag, length, UTF-8 bytes. */
function writeString(tag: number, s: string): void {
  const n = s.length;
  // Tag, the longest length varint and the longest UTF-8 form (3 bytes per UTF-16 unit).
  ensure(6 + 3 * n);
  out[pos++] = tag;
  if (n > LONG_STRING) {
    // UTF-8 takes at least one byte per UTF-16 unit, so this guess is right for ASCII.
    const guess = varintSize(n);
    const at = pos;
    pos += guess;
    pos += encodeUtf8Into(s, out, pos);
    closeLength(at, guess);
  } else {
    const len = utf8Length(s);
    writeVarint(len);
    pos = writeUtf8(s, out, pos, len === n);
  }
}

function writeBytes(tag: number, b: Uint8Array): void {
  const len = b.length;
  ensure(6 + len);
  out[pos++] = tag;
  writeVarint(len);
  if (len <= 32) {
    for (let i = 0; i < len; i++) out[pos++] = b[i];
  } else {
    out.set(b, pos);
    pos += len;
  }
}

function writeFixed64(tag: number, v: bigint): void {
  ensure(9);
  out[pos++] = tag;
  dv.setBigUint64(pos, v, true);
  pos += 8;
}

/** Writes an AnyValue's fields (its tag and length are the caller's). */
function writeAnyValueContent(v: AnyValue): void {
  switch (v.kind) {
    case "string":
      writeString(0x0a, v.value);
      break;
    case "bool":
      ensure(2);
      out[pos++] = 0x10;
      out[pos++] = v.value ? 1 : 0;
      break;
    case "int":
      ensure(11);
      out[pos++] = 0x18;
      writeInt64(v.value);
      break;
    case "double":
      ensure(9);
      out[pos++] = 0x21;
      dv.setFloat64(pos, v.value, true);
      pos += 8;
      break;
    case "bytes":
      writeBytes(0x3a, v.value);
      break;
    case "array": {
      ensure(1);
      out[pos++] = 0x2a;
      const at = openLength(2);
      const values = v.value;
      for (let i = 0; i < values.length; i++) writeAnyValue(0x0a, values[i]);
      closeLength(at, 2);
      break;
    }
    case "kvlist": {
      ensure(1);
      out[pos++] = 0x32;
      const at = openLength(2);
      writeAttributes(0x0a, v.value);
      closeLength(at, 2);
      break;
    }
  }
}

/** A guess of an AnyValue's length-prefix size: exact for ASCII strings and scalars. */
function anyValueGuess(v: AnyValue): number {
  return v.kind === "string" ? varintSize(v.value.length + 1 + varintSize(v.value.length)) : 1;
}

function writeAnyValue(tag: number, v: AnyValue): void {
  ensure(1);
  out[pos++] = tag;
  const guess = anyValueGuess(v);
  const at = openLength(guess);
  writeAnyValueContent(v);
  closeLength(at, guess);
}

function writeAttributes(tag: number, attrs: KeyValue[]): void {
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i];
    ensure(1);
    out[pos++] = tag;
    const v = kv.value;
    const guess = varintSize(kv.key.length + 4 + (v.kind === "string" ? v.value.length + 3 : 16));
    const at = openLength(guess);
    if (kv.key.length !== 0) writeString(0x0a, kv.key);
    writeAnyValue(0x12, kv.value);
    closeLength(at, guess);
  }
}

/** A guess of a record's length-prefix size from its body and attribute count. */
function recordGuess(r: LogRecord): number {
  const body = r.body;
  const bodyLen = body === undefined ? 0 : body.kind === "string" ? body.value.length : 64;
  return varintSize(40 + bodyLen + 32 * r.attributes.length);
}

/** A record's time, severity number and text (fields 1–3), each only when set. */
function writeRecordHead(time: bigint, severity: number, severityText: string): void {
  if (time !== 0n) writeFixed64(0x09, time);
  const sev = severity | 0;
  if (sev !== 0) {
    ensure(11);
    out[pos++] = 0x10;
    writeInt32(sev);
  }
  if (severityText.length !== 0) writeString(0x1a, severityText);
}

/** A record's flags, trace id and span id (fields 8–10), each only when set and valid. */
function writeFlagsAndIds(flags: number, traceId?: Uint8Array, spanId?: Uint8Array): void {
  const f = flags >>> 0;
  if (f !== 0) {
    ensure(5);
    out[pos++] = 0x45;
    dv.setUint32(pos, f, true);
    pos += 4;
  }
  if (traceId?.length === 16) writeBytes(0x4a, traceId);
  if (spanId?.length === 8) writeBytes(0x52, spanId);
}

function writeLogRecord(r: LogRecord): void {
  ensure(1);
  out[pos++] = 0x12;
  const guess = recordGuess(r);
  const at = openLength(guess);
  writeRecordHead(r.timeUnixNano, r.severityNumber, r.severityText);
  if (r.body !== undefined) writeAnyValue(0x2a, r.body);
  writeAttributes(0x32, r.attributes);
  const dropped = r.droppedAttributesCount >>> 0;
  if (dropped !== 0) {
    ensure(6);
    out[pos++] = 0x38;
    writeVarint(dropped);
  }
  writeFlagsAndIds(r.flags, r.traceId, r.spanId);
  if (r.observedTimeUnixNano !== 0n) writeFixed64(0x59, r.observedTimeUnixNano);
  if (r.eventName.length !== 0) writeString(0x62, r.eventName);
  closeLength(at, guess);
}

// ---- records whose body and attributes are plain JS data (stanza entries) ----

/**
 * A value as plain JS data, the form stanza entries hold: a number is a double, a bigint an
 * int, null the empty value, an array an array and an object a kvlist (keys in insertion
 * order). Encoded as the AnyValue `pkg/stanza/adapter`'s `toAnyValue` would make of it.
 */
export type PlainValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | PlainValue[]
  | { [key: string]: PlainValue };

/** A log record as plain data, in the shape of a stanza entry's fields. */
export interface PlainLogRecord {
  readonly body: PlainValue | undefined;
  readonly attributes: { [key: string]: PlainValue };
  readonly timestamp: bigint;
  readonly observed: bigint;
  readonly severity: number;
  readonly severityText: string;
  readonly traceId?: Uint8Array;
  readonly spanId?: Uint8Array;
  readonly traceFlags?: number;
}

/** Writes a plain value's AnyValue fields (its tag and length are the caller's). */
function writePlainValueContent(v: PlainValue): void {
  switch (typeof v) {
    case "string":
      writeString(0x0a, v);
      return;
    case "number":
      ensure(9);
      out[pos++] = 0x21;
      dv.setFloat64(pos, v, true);
      pos += 8;
      return;
    case "bigint":
      ensure(11);
      out[pos++] = 0x18;
      writeInt64(v);
      return;
    case "boolean":
      ensure(2);
      out[pos++] = 0x10;
      out[pos++] = v ? 1 : 0;
      return;
  }
  if (v === null) return; // the empty AnyValue
  if (v instanceof Uint8Array) {
    writeBytes(0x3a, v);
  } else if (Array.isArray(v)) {
    ensure(1);
    out[pos++] = 0x2a;
    const at = openLength(2);
    for (let i = 0; i < v.length; i++) writePlainValue(0x0a, v[i]!);
    closeLength(at, 2);
  } else {
    ensure(1);
    out[pos++] = 0x32;
    const at = openLength(2);
    writePlainAttributes(0x0a, v);
    closeLength(at, 2);
  }
}

function writePlainValue(tag: number, v: PlainValue): void {
  ensure(1);
  out[pos++] = tag;
  const guess = typeof v === "string" ? varintSize(v.length + 1 + varintSize(v.length)) : 1;
  const at = openLength(guess);
  writePlainValueContent(v);
  closeLength(at, guess);
}

function writePlainAttributes(tag: number, m: { [key: string]: PlainValue }): void {
  for (const key in m) {
    const v = m[key]!;
    ensure(1);
    out[pos++] = tag;
    const guess = varintSize(key.length + 4 + (typeof v === "string" ? v.length + 3 : 16));
    const at = openLength(guess);
    if (key.length !== 0) writeString(0x0a, key);
    writePlainValue(0x12, v);
    closeLength(at, guess);
  }
}

/** Writes `e` as a ScopeLogs `log_records` field, byte for byte as its LogRecord would be. */
function writePlainLogRecord(e: PlainLogRecord): void {
  ensure(1);
  out[pos++] = 0x12;
  const body = e.body;
  const guess = varintSize(104 + (typeof body === "string" ? body.length : 64));
  const at = openLength(guess);
  writeRecordHead(e.timestamp, e.severity, e.severityText);
  if (body !== undefined) writePlainValue(0x2a, body);
  writePlainAttributes(0x32, e.attributes);
  writeFlagsAndIds(e.traceFlags ?? 0, e.traceId, e.spanId);
  if (e.observed !== 0n) writeFixed64(0x59, e.observed);
  closeLength(at, guess);
}

/** An InstrumentationScope message's fields. */
function writeScopeFields(scope: InstrumentationScope): void {
  if (scope.name.length !== 0) writeString(0x0a, scope.name);
  if (scope.version.length !== 0) writeString(0x12, scope.version);
  writeAttributes(0x1a, scope.attributes);
  const dropped = scope.droppedAttributesCount >>> 0;
  if (dropped !== 0) {
    ensure(6);
    out[pos++] = 0x20;
    writeVarint(dropped);
  }
}

/** A Resource message's fields. */
function writeResourceFields(resource: Resource): void {
  writeAttributes(0x0a, resource.attributes);
  const dropped = resource.droppedAttributesCount >>> 0;
  if (dropped !== 0) {
    ensure(6);
    out[pos++] = 0x10;
    writeVarint(dropped);
  }
}

function writeScopeLogs(sl: ScopeLogs): void {
  ensure(1);
  out[pos++] = 0x12;
  const at = openLength(ENVELOPE_GUESS);
  ensure(1);
  out[pos++] = 0x0a;
  const scopeAt = openLength(1);
  writeScopeFields(sl.scope);
  closeLength(scopeAt, 1);
  const records = sl.logRecords;
  for (let i = 0; i < records.length; i++) writeLogRecord(records[i]);
  if (sl.schemaUrl.length !== 0) writeString(0x1a, sl.schemaUrl);
  closeLength(at, ENVELOPE_GUESS);
}

function writeResourceLogs(rl: ResourceLogs): void {
  ensure(1);
  out[pos++] = 0x0a;
  const at = openLength(ENVELOPE_GUESS);
  ensure(1);
  out[pos++] = 0x0a;
  const resourceGuess = rl.resource.attributes.length > 2 ? 2 : 1;
  const resourceAt = openLength(resourceGuess);
  writeResourceFields(rl.resource);
  closeLength(resourceAt, resourceGuess);
  const scopes = rl.scopeLogs;
  for (let i = 0; i < scopes.length; i++) writeScopeLogs(scopes[i]);
  if (rl.schemaUrl.length !== 0) writeString(0x1a, rl.schemaUrl);
  closeLength(at, ENVELOPE_GUESS);
}

/**
 * Encodes `logs` as an ExportLogsServiceRequest. The result may be a view of a slightly
 * larger buffer (at most 1/8 unused); it shares no memory with anything else.
 */
export function encodeRequest(logs: Logs): Uint8Array {
  const records = logRecordCount(logs);
  out = new Uint8Array(
    Math.ceil(Math.min(records * bytesPerRecord, Math.max(FIRST_BUFFER_MAX, lastSize)) * 1.0625) +
      1024,
  );
  dv = new DataView(out.buffer);
  pos = 0;
  try {
    const rls = logs.resourceLogs;
    for (let i = 0; i < rls.length; i++) writeResourceLogs(rls[i]);
    if (records > 0) bytesPerRecord = Math.max(16, Math.ceil(pos / records));
    lastSize = pos;
    // A buffer that grew holds up to twice what was written: keep only the bytes then.
    return out.length - pos > pos / 8 ? out.slice(0, pos) : out.subarray(0, pos);
  } finally {
    out = new Uint8Array(0);
    dv = new DataView(out.buffer);
  }
}

/** Record attributes by map, encoded (see {@linkcode EncodedRecords.addWithText}). */
const sharedAttributes = new WeakMap<object, Uint8Array>();

/**
 * The `attributes` fields of a record for a map that never changes, encoded once. Kept as long
 * as its file is tracked, so only its own bytes are kept: a node tails thousands of files.
 */
function sharedAttributeBytes(m: { [key: string]: PlainValue }): Uint8Array {
  let bytes = sharedAttributes.get(m);
  if (bytes === undefined) {
    bytes = encodeWith(() => writePlainAttributes(0x32, m)).slice();
    sharedAttributes.set(m, bytes);
  }
  return bytes;
}

/** Writes `v` as a varint into `b` at `p`; returns the position after it. */
export function putVarint(b: Uint8Array, p: number, v: number): number {
  for (; v >= 0x80; v = Math.floor(v / 128)) b[p++] = (v % 128) | 0x80;
  b[p++] = v;
  return p;
}

/**
 * A chunk with less room than this left is closed and a new one started (a record larger than
 * the room left grows its chunk). Chunks start small, a resource may have only a few records,
 * and double up to {@linkcode MAX_CHUNK_BYTES}.
 */
const MIN_ROOM = 1024;
const FIRST_CHUNK_BYTES = 2 * 1024;
const MAX_CHUNK_BYTES = 64 * 1024;

/**
 * Log records encoded one at a time as they are made, straight from plain data (stanza
 * entries), each as a ScopeLogs `log_records` field: no record objects are made, and none
 * stay alive until their batch is encoded. The bytes go into chunks that are not copied to
 * grow.
 */
export class EncodedRecords {
  #chunks: Uint8Array[] = [];
  #current = new Uint8Array(0);
  #view = new DataView(this.#current.buffer);
  #used = 0;
  #length = 0;

  /** Bytes of their encoding. */
  get byteLength(): number {
    return this.#length;
  }

  /** Appends the encoding of `e`: the bytes its LogRecord would have, no objects made. */
  add(e: PlainLogRecord): void {
    this.#room(MIN_ROOM);
    // The encoder's buffer is module state: borrow it for this chunk, then give it back.
    const savedOut = out, savedView = dv, savedPos = pos;
    out = this.#current;
    dv = this.#view;
    pos = this.#used;
    try {
      writePlainLogRecord(e);
      this.#length += pos - this.#used;
      this.#current = out; // a record larger than the room left grew the chunk
      this.#view = dv;
      this.#used = pos;
    } finally {
      out = savedOut;
      dv = savedView;
      pos = savedPos;
    }
  }

  /**
   * Appends what {@linkcode add} would for `e` with a string body whose UTF-8 bytes are
   * `text[start, end)`, copied as they are: the caller makes sure they are valid UTF-8 (what
   * decoding and encoding again would give). `e.attributes` must be a map that never changes:
   * its encoding is kept with it and copied for every record of the same map. Knowing the
   * record's length beforehand, it writes the record in one pass.
   */
  addWithText(e: PlainLogRecord, text: Uint8Array, start: number, end: number): void {
    if (e.severity !== 0 || e.severityText !== "" || e.traceFlags || e.traceId || e.spanId) {
      this.add({ ...e, body: textDecoder.decode(text.subarray(start, end)) });
      return;
    }
    const attrs = sharedAttributeBytes(e.attributes);
    const textLength = end - start;
    const anyValue = 1 + varintSize(textLength) + textLength;
    const record = (e.timestamp !== 0n ? 9 : 0) + 1 + varintSize(anyValue) + anyValue +
      attrs.length + (e.observed !== 0n ? 9 : 0);
    const total = 1 + varintSize(record) + record;
    this.#room(total);
    const b = this.#current;
    const v = this.#view;
    let p = this.#used;
    b[p++] = 0x12;
    p = putVarint(b, p, record);
    if (e.timestamp !== 0n) {
      b[p++] = 0x09;
      v.setBigUint64(p, e.timestamp, true);
      p += 8;
    }
    b[p++] = 0x2a;
    p = putVarint(b, p, anyValue);
    b[p++] = 0x0a;
    p = putVarint(b, p, textLength);
    b.set(text.subarray(start, end), p);
    p += textLength;
    b.set(attrs, p);
    p += attrs.length;
    if (e.observed !== 0n) {
      b[p++] = 0x59;
      v.setBigUint64(p, e.observed, true);
      p += 8;
    }
    this.#used = p;
    this.#length += total;
  }

  /** Makes sure the current chunk has `bytes` of room, starting a new one if not. */
  #room(bytes: number): void {
    if (this.#current.length - this.#used >= bytes) return;
    if (this.#used > 0) this.#chunks.push(this.#current.subarray(0, this.#used));
    const size = Math.min(MAX_CHUNK_BYTES, Math.max(FIRST_CHUNK_BYTES, 2 * this.#current.length));
    this.#current = new Uint8Array(Math.max(size, bytes));
    this.#view = new DataView(this.#current.buffer);
    this.#used = 0;
  }

  /** The bytes, as views of the chunks (no copy); nothing may be added afterwards. */
  pieces(): Uint8Array[] {
    return this.#used > 0
      ? [...this.#chunks, this.#current.subarray(0, this.#used)]
      : [...this.#chunks];
  }
}

/** What `write` writes into a fresh buffer. */
function encodeWith(write: () => void): Uint8Array {
  const savedOut = out, savedView = dv, savedPos = pos;
  out = new Uint8Array(256);
  dv = new DataView(out.buffer);
  pos = 0;
  try {
    write();
    return out.subarray(0, pos);
  } finally {
    out = savedOut;
    dv = savedView;
    pos = savedPos;
  }
}

/** A Resource message's bytes (a fresh buffer). */
export function encodeResource(resource: Resource): Uint8Array {
  return encodeWith(() => writeResourceFields(resource));
}

/**
 * The bytes that put `recordsLength` bytes of encoded records (see {@linkcode EncodedRecords})
 * into an ExportLogsServiceRequest: one ResourceLogs field holding `resource` and one
 * ScopeLogs field holding `scope`, the records following directly (no schema URLs).
 */
export function resourceLogsHeader(
  resource: Resource,
  scope: InstrumentationScope,
  recordsLength: number,
): Uint8Array {
  const resourceMsg = encodeResource(resource);
  const scopeMsg = encodeWith(() => writeScopeFields(scope));
  const scopeLogsLength = delimited(scopeMsg.length) + recordsLength;
  const resourceLogsLength = delimited(resourceMsg.length) + delimited(scopeLogsLength);
  return encodeWith(() => {
    // Four tags and four lengths of at most 5 bytes each, and the two messages.
    ensure(24 + resourceMsg.length + scopeMsg.length);
    out[pos++] = 0x0a; // ExportLogsServiceRequest.resource_logs
    writeVarint(resourceLogsLength);
    out[pos++] = 0x0a; // ResourceLogs.resource
    writeVarint(resourceMsg.length);
    out.set(resourceMsg, pos);
    pos += resourceMsg.length;
    out[pos++] = 0x12; // ResourceLogs.scope_logs
    writeVarint(scopeLogsLength);
    out[pos++] = 0x0a; // ScopeLogs.scope
    writeVarint(scopeMsg.length);
    out.set(scopeMsg, pos);
    pos += scopeMsg.length;
  });
}
