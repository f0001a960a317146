/**
 * Says, without decoding, whether OTLP/protobuf logs bytes may be handed on as they are:
 * whether the decoder (`proto_reader.ts`) would read them without an error and without
 * skipping, replacing or merging anything. For such bytes, any later reader gets exactly what
 * decoding and re-encoding them would have given, so a receiver whose pipeline changes
 * nothing can pass them on as an `EncodedLogs` and save both steps.
 *
 * Conservative on purpose: anything that is not the plain form (an unknown or skipped field,
 * a singular field sent twice, more than one AnyValue kind, invalid UTF-8, an id of the wrong
 * length, nesting past `MAX_ANY_VALUE_DEPTH`, a group, truncation) answers "decode it", and
 * the decoder then reads, normalises or refuses it as usual.
 *
 * @module
 */

import { isUtf8 } from "node:buffer";
import { MAX_ANY_VALUE_DEPTH } from "./otlp_error.ts";

/** Thrown inside the scan when the bytes are not the plain form; never escapes. */
const NOT_PLAIN = new Error("not plain");

const EMPTY = new Uint8Array(0);
let buf: Uint8Array = EMPTY;
let dv: DataView = new DataView(EMPTY.buffer);
let pos = 0;
let depth = 0;
let records = 0;

function bail(): never {
  throw NOT_PLAIN;
}

/** A varint below 2^32 (tags and lengths); longer ones are not the plain form. */
function readVarint32(end: number): number {
  // Split so that the common one-byte case is small enough to inline.
  if (pos < end) {
    const b = buf[pos]!;
    if (b < 0x80) {
      pos++;
      return b;
    }
  }
  return readVarint32Long(end);
}

function readVarint32Long(end: number): number {
  let result = 0;
  for (let mul = 1; mul < 2 ** 35; mul *= 128) {
    if (pos >= end) bail();
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result < 2 ** 32 ? result : bail();
  }
  return bail();
}

/** Steps over a varint of any value (at most 10 bytes). */
function skipVarint(end: number): void {
  for (let i = 0; i < 10; i++) {
    if (pos >= end) bail();
    if (buf[pos++]! < 0x80) return;
  }
  bail();
}

function skipFixed(end: number, size: number): void {
  if (end - pos < size) bail();
  pos += size;
}

/** Reads a length prefix and returns the end of the field it announces. */
function readEnd(end: number): number {
  const len = readVarint32(end);
  if (len > end - pos) bail();
  return pos + len;
}

/** Steps over a string field, which must be valid UTF-8 (the decoder replaces what is not). */
function skipString(end: number): void {
  const e = readEnd(end);
  let i = pos;
  // Four bytes at a time while they are ASCII, then byte by byte.
  while (i + 4 <= e && (dv.getUint32(i) & 0x80808080) === 0) i += 4;
  while (i < e && buf[i]! < 0x80) i++;
  if (i < e && !isUtf8(buf.subarray(i, e))) bail();
  pos = e;
}

/** Steps over a bytes field of `size` bytes or none (trace and span ids). */
function skipId(end: number, size: number): void {
  const e = readEnd(end);
  if (e !== pos && e - pos !== size) bail();
  pos = e;
}

/** Sets `field`'s bit in `seen`; a singular field already seen is not the plain form. */
function once(seen: number, field: number): number {
  const bit = 1 << field;
  return (seen & bit) === 0 ? seen | bit : bail();
}

function checkAnyValue(end: number): void {
  if (++depth > MAX_ANY_VALUE_DEPTH) bail();
  let kinds = 0;
  while (pos < end) {
    if (kinds++ > 0) bail(); // a oneof: one kind at most
    const tag = readVarint32(end);
    switch (tag) {
      case 0x0a: // string_value
        skipString(end);
        break;
      case 0x10: // bool_value
      case 0x18: // int_value
        skipVarint(end);
        break;
      case 0x21: // double_value
        skipFixed(end, 8);
        break;
      case 0x2a: { // array_value: ArrayValue { repeated AnyValue values = 1 }
        const e = readEnd(end);
        while (pos < e) {
          if (readVarint32(e) !== 0x0a) bail();
          checkAnyValue(readEnd(e));
        }
        break;
      }
      case 0x32: { // kvlist_value: KeyValueList { repeated KeyValue values = 1 }
        const e = readEnd(end);
        while (pos < e) {
          if (readVarint32(e) !== 0x0a) bail();
          checkKeyValue(readEnd(e));
        }
        break;
      }
      case 0x3a: // bytes_value
        pos = readEnd(end);
        break;
      default:
        bail();
    }
  }
  depth--;
}

function checkKeyValue(end: number): void {
  let seen = 0;
  while (pos < end) {
    const tag = readVarint32(end);
    if (tag === 0x0a) {
      seen = once(seen, 1);
      skipString(end);
    } else if (tag === 0x12) {
      seen = once(seen, 2);
      checkAnyValue(readEnd(end));
    } else {
      bail();
    }
  }
}

function checkLogRecord(end: number): void {
  let seen = 0;
  while (pos < end) {
    const tag = readVarint32(end);
    if (tag !== 0x32) seen = once(seen, tag >>> 3); // attributes (6) repeat
    switch (tag) {
      case 0x09: // time_unix_nano
      case 0x59: // observed_time_unix_nano
        skipFixed(end, 8);
        break;
      case 0x10: // severity_number
      case 0x38: // dropped_attributes_count
        skipVarint(end);
        break;
      case 0x1a: // severity_text
      case 0x62: // event_name
        skipString(end);
        break;
      case 0x2a: // body
        checkAnyValue(readEnd(end));
        break;
      case 0x32: // attributes
        checkKeyValue(readEnd(end));
        break;
      case 0x45: // flags
        skipFixed(end, 4);
        break;
      case 0x4a: // trace_id
        skipId(end, 16);
        break;
      case 0x52: // span_id
        skipId(end, 8);
        break;
      default:
        bail();
    }
  }
}

function checkScope(end: number): void {
  let seen = 0;
  while (pos < end) {
    const tag = readVarint32(end);
    if (tag === 0x0a || tag === 0x12) { // name, version
      seen = once(seen, tag >>> 3);
      skipString(end);
    } else if (tag === 0x1a) { // attributes
      checkKeyValue(readEnd(end));
    } else if (tag === 0x20) { // dropped_attributes_count
      seen = once(seen, 4);
      skipVarint(end);
    } else {
      bail();
    }
  }
}

function checkScopeLogs(end: number): void {
  let seen = 0;
  while (pos < end) {
    const tag = readVarint32(end);
    if (tag === 0x12) { // log_records
      checkLogRecord(readEnd(end));
      records++;
    } else if (tag === 0x0a) { // scope
      seen = once(seen, 1);
      checkScope(readEnd(end));
    } else if (tag === 0x1a) { // schema_url
      seen = once(seen, 3);
      skipString(end);
    } else {
      bail();
    }
  }
}

function checkResource(end: number): void {
  let seen = 0;
  while (pos < end) {
    const tag = readVarint32(end);
    if (tag === 0x0a) { // attributes
      checkKeyValue(readEnd(end));
    } else if (tag === 0x10) { // dropped_attributes_count
      seen = once(seen, 2);
      skipVarint(end);
    } else {
      bail(); // entity_refs (3) is skipped by the decoder
    }
  }
}

function checkResourceLogs(end: number): void {
  let seen = 0;
  while (pos < end) {
    const tag = readVarint32(end);
    if (tag === 0x12) { // scope_logs
      checkScopeLogs(readEnd(end));
    } else if (tag === 0x0a) { // resource
      seen = once(seen, 1);
      checkResource(readEnd(end));
    } else if (tag === 0x1a) { // schema_url
      seen = once(seen, 3);
      skipString(end);
    } else {
      bail();
    }
  }
}

/**
 * The number of log records in `bytes[start, end)` — whole `resource_logs` fields of an
 * ExportLogsServiceRequest — when they are in the plain form the module doc describes;
 * undefined when they must be decoded. A caller may check a large request a run of fields at
 * a time.
 */
export function plainRecordCount(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): number | undefined {
  buf = bytes;
  dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = start;
  depth = 0;
  records = 0;
  try {
    while (pos < end) {
      if (readVarint32(end) !== 0x0a) bail();
      checkResourceLogs(readEnd(end));
    }
    return records;
  } catch (err) {
    if (err === NOT_PLAIN) return undefined;
    throw err;
  } finally {
    buf = EMPTY; // do not keep the caller's buffer alive
    dv = new DataView(EMPTY.buffer);
  }
}
