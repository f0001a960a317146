/**
 * Turns an OTLP/protobuf request body into the `Logs` the pipeline gets, for both protocols.
 *
 * When the pipeline takes batches held encoded (`takesEncoded`: it changes nothing, as otlp →
 * batch → otlp_http, or only resources, as k8sattributes) and the body is in the plain form
 * `proto_check.ts` describes, the body itself goes on as an `EncodedLogs`: `batch` joins such
 * requests without decoding them and `otlp_http` sends their bytes without encoding them.
 * Decoding and encoding are the two steps that cost the most per record there (about 1 µs each,
 * against 0.2 µs for the check).
 * Anything else is decoded, in slices when large (`sliced_decode.ts`).
 *
 * @module
 */

import { LoopTurns } from "../../core/async.ts";
import { EncodedLogs } from "../../core/pdata/encoded_logs.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { plainRecordCount } from "../../core/pdata/proto_check.ts";
import { fields } from "../../core/pdata/proto_fields.ts";
import { decodeLogsRequestSliced, SLICE_BYTES } from "./sliced_decode.ts";

/**
 * A single `resource_logs` field larger than this is decoded in slices instead of checked in
 * one call, which would hold the event loop for about 1 ms per MiB.
 */
const MAX_CHECKED_FIELD = 2 * 1024 * 1024;

/** How {@linkcode logsFromProtobuf} may treat the body. */
export interface ProtobufLogsOptions {
  /** The pipeline takes batches held encoded, so it may get the bytes themselves. */
  readonly handOnEncoded: boolean;
  /** The body belongs to the transport (grpc-js): bytes handed on are a copy. */
  readonly borrowed?: boolean;
  /** How long a check or decode may hold the event loop between yields, in ms. */
  readonly yieldMs?: number;
}

/**
 * The logs of `body` (ExportLogsServiceRequest bytes, kept when handed on unless `borrowed`).
 *
 * @throws {OtlpDecodeError} when the body is not a valid request
 */
export async function logsFromProtobuf(
  body: Uint8Array,
  opts: ProtobufLogsOptions,
): Promise<Logs> {
  const yieldMs = opts.yieldMs ?? 4;
  if (opts.handOnEncoded) {
    const records = await plainRecords(body, yieldMs);
    if (records !== undefined) {
      return new EncodedLogs([opts.borrowed ? body.slice() : unpinned(body)], records);
    }
  }
  return await decodeLogsRequestSliced(body, SLICE_BYTES, yieldMs);
}

/**
 * The record count when the whole body is in the plain form, checked a run of about
 * `SLICE_BYTES` of `resource_logs` fields at a time, yielding to the event loop whenever
 * `yieldMs` passed; undefined when it must be decoded.
 */
async function plainRecords(body: Uint8Array, yieldMs: number): Promise<number | undefined> {
  if (body.length <= SLICE_BYTES) return plainRecordCount(body);
  // The request's fields (tag, start, body start, end), read from tags and lengths only.
  const top: number[] = [];
  if (!fields(body, 0, body.length, top)) return undefined;
  let records = 0;
  const turns = new LoopTurns(yieldMs);
  for (let i = 0; i < top.length;) {
    const start = top[i + 1]!;
    let end = start;
    for (; i < top.length && (end === start || end - start < SLICE_BYTES); i += 4) {
      // Any other field is refused by the check below.
      if (top[i + 3]! - top[i + 1]! > MAX_CHECKED_FIELD) return undefined;
      end = top[i + 3]!;
    }
    const n = plainRecordCount(body, start, end);
    if (n === undefined) return undefined;
    records += n;
    await turns.pause();
  }
  return records;
}

/**
 * `bytes`, copied when they are a small view of a much larger buffer (a transport's read
 * buffer) that keeping them would keep alive.
 */
function unpinned(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength * 2 < bytes.buffer.byteLength ? bytes.slice() : bytes;
}
