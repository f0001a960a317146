/**
 * OTLP/protobuf codec for logs: ExportLogsServiceRequest and ExportLogsServiceResponse.
 *
 * Hand-written for speed (see `bench/codec_bench.ts`) and checked in tests against the
 * generated @bufbuild code and `protoc --decode`. Decoding is lenient where upstream is:
 * unknown fields are skipped and invalid UTF-8 in strings becomes U+FFFD. It is strict where
 * the input is unusable: truncation, lengths beyond the buffer, wrong wire types, trace/span
 * ids of the wrong length and AnyValue nesting deeper than `MAX_ANY_VALUE_DEPTH` raise
 * `OtlpDecodeError`.
 *
 * @example
 * ```ts
 * import { decodeLogsRequest, encodeLogsRequest } from "./otlp_proto.ts";
 * import { newLogRecord, newResource, newScope } from "./logs.ts";
 *
 * const bytes = encodeLogsRequest({
 *   resourceLogs: [{
 *     resource: newResource(),
 *     schemaUrl: "",
 *     scopeLogs: [{ scope: newScope(), schemaUrl: "", logRecords: [newLogRecord()] }],
 *   }],
 * });
 * const logs = decodeLogsRequest(bytes);
 * ```
 *
 * @module
 */

import { encodedPieces, joinPieces } from "./encoded_logs.ts";
import type { Logs } from "./logs.ts";
import { OtlpDecodeError } from "./otlp_error.ts";
import { decodeRequest, decodeResponse } from "./proto_reader.ts";
import { encodeRequest, int64Size, requestSize, varintSize } from "./proto_writer.ts";
import { utf8Length, writeUtf8 } from "./utf8.ts";

export { MAX_ANY_VALUE_DEPTH, OtlpDecodeError } from "./otlp_error.ts";
export {
  EncodedRecords,
  type PlainLogRecord,
  type PlainValue,
  resourceLogsHeader,
} from "./proto_writer.ts";

/** The partial_success of an ExportLogsServiceResponse. */
export interface ExportLogsPartialSuccess {
  rejectedLogRecords: bigint;
  errorMessage: string;
}

/**
 * Encodes a batch as ExportLogsServiceRequest bytes.
 *
 * @param logs the batch; not modified
 * @returns `logsRequestSize(logs)` bytes, in memory shared with nothing else (possibly a view
 *   of a slightly larger buffer)
 */
export function encodeLogsRequest(logs: Logs): Uint8Array {
  // A batch still held encoded: its bytes joined into a new buffer the caller owns.
  const pieces = encodedPieces(logs);
  return pieces === undefined ? encodeRequest(logs) : joinPieces(pieces);
}

/**
 * Decodes ExportLogsServiceRequest bytes. The result shares no memory with `bytes`.
 *
 * @throws {OtlpDecodeError} when the bytes are not a valid request
 */
export function decodeLogsRequest(bytes: Uint8Array): Logs {
  try {
    return decodeRequest(bytes);
  } catch (e) {
    if (e instanceof OtlpDecodeError) throw e;
    // Any other failure (e.g. RangeError from an allocation) is still bad input to the caller.
    throw new OtlpDecodeError(`Invalid OTLP protobuf: ${e instanceof Error ? e.message : e}`, {
      cause: e,
    });
  }
}

/** Returns the exact size in bytes `encodeLogsRequest(logs)` would produce, without encoding. */
export function logsRequestSize(logs: Logs): number {
  const pieces = encodedPieces(logs);
  return pieces === undefined ? requestSize(logs) : pieces.reduce((n, p) => n + p.length, 0);
}

/**
 * Encodes an ExportLogsServiceResponse; with `p` undefined the response has no
 * partial_success (full success).
 */
export function encodeLogsResponse(p?: ExportLogsPartialSuccess): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  const rejected = p.rejectedLogRecords;
  const msgLen = utf8Length(p.errorMessage);
  let inner = 0;
  if (rejected !== 0n) inner += 1 + int64Size(rejected);
  if (msgLen !== 0) inner += 1 + varintSize(msgLen) + msgLen;
  const out = new Uint8Array(1 + varintSize(inner) + inner);
  let pos = 0;
  const varint = (v: number) => {
    while (v > 0x7f) {
      out[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[pos++] = v;
  };
  out[pos++] = 0x0a;
  varint(inner);
  if (rejected !== 0n) {
    out[pos++] = 0x08;
    let u = BigInt.asUintN(64, rejected);
    while (u > 0x7fn) {
      out[pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    out[pos++] = Number(u);
  }
  if (msgLen !== 0) {
    out[pos++] = 0x12;
    varint(msgLen);
    writeUtf8(p.errorMessage, out, pos, msgLen === p.errorMessage.length);
  }
  return out;
}

/**
 * Decodes ExportLogsServiceResponse bytes.
 *
 * @returns the partial success, or `undefined` when the response has none (full success)
 * @throws {OtlpDecodeError} when the bytes are not a valid response
 */
export function decodeLogsResponse(bytes: Uint8Array): ExportLogsPartialSuccess | undefined {
  return decodeResponse(bytes);
}
