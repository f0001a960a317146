/**
 * The hand-written OTLP protobuf decoder for logs.
 *
 * Every read is bounds-checked against the end of the enclosing message, so truncated input,
 * lengths beyond the buffer and bad wire types raise `OtlpDecodeError` instead of reading
 * garbage. Unknown fields (of any valid wire type, groups included) are skipped. A known field
 * with the wrong wire type is an error, as in upstream pdata. Fields this data model has no
 * place for (`Resource.entity_refs`, the profiles-only `*_strindex` fields) are skipped like
 * unknown ones. AnyValue nesting deeper than `MAX_ANY_VALUE_DEPTH` is rejected.
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
import { emptyLogRecord } from "./logs.ts";
import { MAX_ANY_VALUE_DEPTH, OtlpDecodeError } from "./otlp_error.ts";
import type { Buffer } from "node:buffer";
import { bufferView, decodeUtf8 } from "./utf8.ts";

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_BUF = new Uint8Array(0);
const WIRE_NAMES = ["varint", "fixed64", "length-delimited", "start-group", "end-group", "fixed32"];

let buf: Uint8Array = EMPTY_BUF;
let text: Buffer = bufferView(EMPTY_BUF); // buf as a Buffer, for decodeUtf8
let dv: DataView = new DataView(EMPTY_BUF.buffer);
let pos = 0;
let depth = 0;
const scratch = new DataView(new ArrayBuffer(8));

/** Throws an OtlpDecodeError that says what is wrong, where, and what to check. */
function fail(what: string, where: string): never {
  throw new OtlpDecodeError(
    `Invalid OTLP protobuf: ${what} in ${where} at byte ${pos}; ` +
      "the body must be a complete, uncorrupted protobuf-encoded message " +
      "(check the Content-Type and Content-Encoding the sender uses)",
  );
}

// Split in two so that the common one-byte case is small enough for V8 to inline.
function readVarint32(end: number, where: string): number {
  if (pos < end) {
    const b = buf[pos];
    if (b < 0x80) {
      pos++;
      return b;
    }
  }
  return readVarint32Long(end, where);
}

function readVarint32Long(end: number, where: string): number {
  let result = 0;
  let shift = 0;
  let b: number;
  do {
    if (pos >= end) fail("truncated varint", where);
    b = buf[pos++];
    if (shift < 32) result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b >= 0x80 && shift < 70);
  if (b >= 0x80) fail("varint longer than 10 bytes", where);
  return result >>> 0;
}

// The two 32-bit halves of the last varint read by readVarint64.
let lo = 0;
let hi = 0;

function readVarint64(end: number, where: string): void {
  lo = 0;
  hi = 0;
  let b = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) fail("truncated varint", where);
    b = buf[pos++];
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      lo >>>= 0;
      return;
    }
  }
  if (pos >= end) fail("truncated varint", where);
  b = buf[pos++];
  lo = (lo | ((b & 0x7f) << 28)) >>> 0;
  hi = (b & 0x7f) >> 4;
  if (b < 0x80) return;
  for (let shift = 3; shift < 38; shift += 7) {
    if (pos >= end) fail("truncated varint", where);
    b = buf[pos++];
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) {
      hi >>>= 0;
      return;
    }
  }
  fail("varint longer than 10 bytes", where);
}

function readInt64(end: number, where: string): bigint {
  readVarint64(end, where);
  if (hi === 0) return BigInt(lo);
  scratch.setUint32(0, lo, true);
  scratch.setUint32(4, hi, true);
  return scratch.getBigInt64(0, true);
}

function readFixed64(end: number, where: string): bigint {
  if (end - pos < 8) fail("truncated fixed64", where);
  const v = dv.getBigUint64(pos, true);
  pos += 8;
  return v;
}

/** Reads a length prefix and returns the end offset of the field it announces. */
function readLength(end: number, where: string): number {
  const len = readVarint32(end, where);
  if (len > end - pos) {
    fail(`length ${len} exceeds the ${end - pos} bytes left`, where);
  }
  return pos + len;
}

function readString(end: number, where: string): string {
  const e = readLength(end, where);
  const s = decodeUtf8(buf, pos, e, text);
  pos = e;
  return s;
}

function readBytes(end: number, where: string): Uint8Array {
  const e = readLength(end, where);
  const b = e === pos ? EMPTY_BYTES : buf.slice(pos, e);
  pos = e;
  return b;
}

function readId(end: number, size: number, where: string): Uint8Array {
  const e = readLength(end, where);
  const len = e - pos;
  if (len === 0) return EMPTY_BYTES;
  if (len !== size) fail(`id of ${len} bytes (must be ${size} or empty)`, where);
  const b = buf.slice(pos, e);
  pos = e;
  return b;
}

function readTag(end: number, where: string): number {
  const tag = readVarint32(end, where);
  if (tag >>> 3 === 0) fail("field number 0", where);
  return tag;
}

/**
 * Handles a tag the caller's switch did not match: rejects a known field (bit set in `known`)
 * sent with the wrong wire type, skips anything else.
 */
function other(tag: number, end: number, known: number, msg: string): void {
  const field = tag >>> 3;
  const wire = tag & 7;
  if (field < 32 && (known & (1 << field)) !== 0 && wire < 6) {
    fail(`field ${field} has wire type ${WIRE_NAMES[wire] ?? wire}, which it cannot have`, msg);
  }
  skipField(tag, end, msg, 0);
}

function skipField(tag: number, end: number, msg: string, groups: number): void {
  switch (tag & 7) {
    case 0:
      readVarint64(end, msg);
      return;
    case 1:
      if (end - pos < 8) fail(`truncated fixed64 (unknown field ${tag >>> 3})`, msg);
      pos += 8;
      return;
    case 2:
      pos = readLength(end, msg);
      return;
    case 3: {
      if (groups >= MAX_ANY_VALUE_DEPTH) fail("groups nested too deeply", msg);
      for (;;) {
        const t = readTag(end, msg);
        if ((t & 7) === 4) {
          if (t >>> 3 !== tag >>> 3) {
            fail(`end-group for field ${t >>> 3} in group ${tag >>> 3}`, msg);
          }
          return;
        }
        skipField(t, end, msg, groups + 1);
      }
    }
    case 4:
      fail(`end-group for field ${tag >>> 3} without a start-group`, msg);
      break;
    case 5:
      if (end - pos < 4) fail(`truncated fixed32 (unknown field ${tag >>> 3})`, msg);
      pos += 4;
      return;
    default:
      fail(`invalid wire type ${tag & 7} (field ${tag >>> 3})`, msg);
  }
}

/** Ends a nested message: the caller's loop stopped exactly at `end` or it overran. */
function close(end: number, msg: string): void {
  if (pos !== end) fail("message overruns its length", msg);
}

const ANY_VALUE_FIELDS = 0b11111110; // 1..7; 8 (string_value_strindex) is skipped
function readAnyValue(end: number): AnyValue {
  if (++depth > MAX_ANY_VALUE_DEPTH) {
    fail(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`, "AnyValue");
  }
  let v: AnyValue | undefined; // an "empty" object only when no field came
  while (pos < end) {
    const tag = readTag(end, "AnyValue");
    switch (tag) {
      case 0x0a:
        v = { kind: "string", value: readString(end, "AnyValue.string_value") };
        break;
      case 0x10:
        readVarint64(end, "AnyValue.bool_value");
        v = { kind: "bool", value: (lo | hi) !== 0 };
        break;
      case 0x18:
        v = { kind: "int", value: readInt64(end, "AnyValue.int_value") };
        break;
      case 0x21:
        if (end - pos < 8) fail("truncated double", "AnyValue.double_value");
        v = { kind: "double", value: dv.getFloat64(pos, true) };
        pos += 8;
        break;
      case 0x2a: {
        const e = readLength(end, "AnyValue.array_value");
        const values: AnyValue[] = [];
        while (pos < e) {
          const t = readTag(e, "ArrayValue");
          if (t === 0x0a) {
            const ve = readLength(e, "ArrayValue.values");
            values.push(readAnyValue(ve));
            close(ve, "ArrayValue.values");
          } else {
            other(t, e, 0b10, "ArrayValue");
          }
        }
        v = { kind: "array", value: values };
        break;
      }
      case 0x32: {
        const e = readLength(end, "AnyValue.kvlist_value");
        const values: KeyValue[] = [];
        while (pos < e) {
          const t = readTag(e, "KeyValueList");
          if (t === 0x0a) values.push(readKeyValue(readLength(e, "KeyValueList.values")));
          else other(t, e, 0b10, "KeyValueList");
        }
        v = { kind: "kvlist", value: values };
        break;
      }
      case 0x3a:
        v = { kind: "bytes", value: readBytes(end, "AnyValue.bytes_value") };
        break;
      default:
        other(tag, end, ANY_VALUE_FIELDS, "AnyValue");
    }
  }
  depth--;
  return v ?? { kind: "empty" };
}

function readKeyValue(end: number): KeyValue {
  let key = "";
  let value: AnyValue | undefined;
  while (pos < end) {
    const tag = readTag(end, "KeyValue");
    if (tag === 0x0a) {
      key = readString(end, "KeyValue.key");
    } else if (tag === 0x12) {
      const e = readLength(end, "KeyValue.value");
      value = readAnyValue(e);
      close(e, "KeyValue.value");
    } else {
      other(tag, end, 0b110, "KeyValue"); // 3 (key_strindex) is skipped
    }
  }
  close(end, "KeyValue");
  return { key, value: value ?? { kind: "empty" } };
}

function readAttribute(attrs: KeyValue[], end: number, where: string): void {
  attrs.push(readKeyValue(readLength(end, where)));
}

const LOG_RECORD_FIELDS = 0b1111111101110; // 1..3, 5..12
function readLogRecord(end: number): LogRecord {
  const r: LogRecord = emptyLogRecord();
  while (pos < end) {
    const tag = readTag(end, "LogRecord");
    switch (tag) {
      case 0x09:
        r.timeUnixNano = readFixed64(end, "LogRecord.time_unix_nano");
        break;
      case 0x10:
        r.severityNumber = readVarint32(end, "LogRecord.severity_number") | 0;
        break;
      case 0x1a:
        r.severityText = readString(end, "LogRecord.severity_text");
        break;
      case 0x2a: {
        const e = readLength(end, "LogRecord.body");
        r.body = readAnyValue(e);
        close(e, "LogRecord.body");
        break;
      }
      case 0x32:
        readAttribute(r.attributes, end, "LogRecord.attributes");
        break;
      case 0x38:
        r.droppedAttributesCount = readVarint32(end, "LogRecord.dropped_attributes_count");
        break;
      case 0x45:
        if (end - pos < 4) fail("truncated fixed32", "LogRecord.flags");
        r.flags = dv.getUint32(pos, true);
        pos += 4;
        break;
      case 0x4a:
        r.traceId = readId(end, 16, "LogRecord.trace_id");
        break;
      case 0x52:
        r.spanId = readId(end, 8, "LogRecord.span_id");
        break;
      case 0x59:
        r.observedTimeUnixNano = readFixed64(end, "LogRecord.observed_time_unix_nano");
        break;
      case 0x62:
        r.eventName = readString(end, "LogRecord.event_name");
        break;
      default:
        other(tag, end, LOG_RECORD_FIELDS, "LogRecord");
    }
  }
  close(end, "LogRecord");
  return r;
}

function readScope(scope: InstrumentationScope, end: number): void {
  while (pos < end) {
    const tag = readTag(end, "InstrumentationScope");
    switch (tag) {
      case 0x0a:
        scope.name = readString(end, "InstrumentationScope.name");
        break;
      case 0x12:
        scope.version = readString(end, "InstrumentationScope.version");
        break;
      case 0x1a:
        readAttribute(scope.attributes, end, "InstrumentationScope.attributes");
        break;
      case 0x20:
        scope.droppedAttributesCount = readVarint32(
          end,
          "InstrumentationScope.dropped_attributes_count",
        );
        break;
      default:
        other(tag, end, 0b11110, "InstrumentationScope");
    }
  }
  close(end, "InstrumentationScope");
}

function readScopeLogs(end: number): ScopeLogs {
  const sl: ScopeLogs = {
    scope: { name: "", version: "", attributes: [], droppedAttributesCount: 0 },
    logRecords: [],
    schemaUrl: "",
  };
  while (pos < end) {
    const tag = readTag(end, "ScopeLogs");
    if (tag === 0x12) {
      sl.logRecords.push(readLogRecord(readLength(end, "ScopeLogs.log_records")));
    } else if (tag === 0x0a) {
      readScope(sl.scope, readLength(end, "ScopeLogs.scope"));
    } else if (tag === 0x1a) {
      sl.schemaUrl = readString(end, "ScopeLogs.schema_url");
    } else {
      other(tag, end, 0b1110, "ScopeLogs");
    }
  }
  close(end, "ScopeLogs");
  return sl;
}

function readResource(resource: Resource, end: number): void {
  while (pos < end) {
    const tag = readTag(end, "Resource");
    if (tag === 0x0a) {
      readAttribute(resource.attributes, end, "Resource.attributes");
    } else if (tag === 0x10) {
      resource.droppedAttributesCount = readVarint32(end, "Resource.dropped_attributes_count");
    } else {
      other(tag, end, 0b110, "Resource"); // 3 (entity_refs) is skipped
    }
  }
  close(end, "Resource");
}

function readResourceLogs(end: number): ResourceLogs {
  const rl: ResourceLogs = {
    resource: { attributes: [], droppedAttributesCount: 0 },
    scopeLogs: [],
    schemaUrl: "",
  };
  while (pos < end) {
    const tag = readTag(end, "ResourceLogs");
    if (tag === 0x12) {
      rl.scopeLogs.push(readScopeLogs(readLength(end, "ResourceLogs.scope_logs")));
    } else if (tag === 0x0a) {
      readResource(rl.resource, readLength(end, "ResourceLogs.resource"));
    } else if (tag === 0x1a) {
      rl.schemaUrl = readString(end, "ResourceLogs.schema_url");
    } else {
      other(tag, end, 0b1110, "ResourceLogs");
    }
  }
  close(end, "ResourceLogs");
  return rl;
}

/** Points the reader at `bytes`, from their start. */
function begin(bytes: Uint8Array): void {
  buf = bytes;
  text = bufferView(bytes);
  dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  depth = 0;
}

/** Lets go of the caller's buffer, so that the reader does not keep it alive. */
function release(): void {
  buf = EMPTY_BUF;
  text = bufferView(EMPTY_BUF);
  dv = new DataView(EMPTY_BUF.buffer);
}

/** Decodes ExportLogsServiceRequest bytes; throws OtlpDecodeError on malformed input. */
export function decodeRequest(bytes: Uint8Array): Logs {
  begin(bytes);
  const end = bytes.length;
  const logs: Logs = { resourceLogs: [] };
  try {
    while (pos < end) {
      const tag = readTag(end, "ExportLogsServiceRequest");
      if (tag === 0x0a) {
        logs.resourceLogs.push(
          readResourceLogs(readLength(end, "ExportLogsServiceRequest.resource_logs")),
        );
      } else {
        other(tag, end, 0b10, "ExportLogsServiceRequest");
      }
    }
  } finally {
    release();
  }
  return logs;
}

/** Decodes Resource message bytes; throws OtlpDecodeError on malformed input. */
export function decodeResource(bytes: Uint8Array): Resource {
  begin(bytes);
  const resource: Resource = { attributes: [], droppedAttributesCount: 0 };
  try {
    readResource(resource, bytes.length);
  } finally {
    release();
  }
  return resource;
}

/** The fields of an ExportLogsPartialSuccess, decoded by `decodeResponse`. */
export interface PartialSuccessFields {
  rejectedLogRecords: bigint;
  errorMessage: string;
}

/** Decodes ExportLogsServiceResponse bytes; `undefined` when partial_success is absent. */
export function decodeResponse(bytes: Uint8Array): PartialSuccessFields | undefined {
  begin(bytes);
  const end = bytes.length;
  let result: PartialSuccessFields | undefined;
  try {
    while (pos < end) {
      const tag = readTag(end, "ExportLogsServiceResponse");
      if (tag !== 0x0a) {
        other(tag, end, 0b10, "ExportLogsServiceResponse");
        continue;
      }
      const e = readLength(end, "ExportLogsServiceResponse.partial_success");
      result ??= { rejectedLogRecords: 0n, errorMessage: "" };
      while (pos < e) {
        const t = readTag(e, "ExportLogsPartialSuccess");
        if (t === 0x08) {
          result.rejectedLogRecords = readInt64(e, "ExportLogsPartialSuccess.rejected_log_records");
        } else if (t === 0x12) {
          result.errorMessage = readString(e, "ExportLogsPartialSuccess.error_message");
        } else {
          other(t, e, 0b110, "ExportLogsPartialSuccess");
        }
      }
    }
  } finally {
    release();
  }
  return result;
}
