/**
 * Decodes a large OTLP/protobuf request in slices, giving the event loop back between them, so
 * that one 20 MiB request does not stall every other connection for the ~100 ms a single
 * decode takes. The request's structure is scanned without decoding (tags and lengths only),
 * each slice — the resource, the scope and a run of log records — is decoded by the project's
 * codec as a small request of its own, and the pieces are joined. The result equals
 * `decodeLogsRequest(bytes)`; anything the scan does not expect (groups, truncation) is left to
 * one whole decode, which reports it as usual.
 *
 * @module
 */

import { LoopTurns } from "../../core/async.ts";
import type { Logs, ResourceLogs, ScopeLogs } from "../../core/pdata/logs.ts";
import { decodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { fields } from "../../core/pdata/proto_fields.ts";

/** Requests up to this size are decoded at once (a few ms at most). */
export const SLICE_BYTES = 256 * 1024;

/** Byte ranges as flat pairs: `start0, end0, start1, end1, …` (no object per field). */
type Ranges = number[];

interface ScopePlan {
  /** Every field but `log_records`, whole (tag included). */
  readonly header: Ranges;
  readonly records: Ranges;
}

interface ResourcePlan {
  /** Every field but `scope_logs`, whole. */
  readonly header: Ranges;
  readonly scopes: ScopePlan[];
}

/** The request's structure, or undefined when it is not the plain shape this splits. */
function plan(b: Uint8Array): ResourcePlan[] | undefined {
  const resources: ResourcePlan[] = [];
  const top: number[] = [];
  if (!fields(b, 0, b.length, top)) return undefined;
  for (let i = 0; i < top.length; i += 4) {
    if (top[i] !== 0x0a) {
      if (top[i]! >>> 3 === 1) return undefined; // field 1 of the wrong wire type: an error
      continue; // unknown fields are skipped, as the decoder does
    }
    const rl: ResourcePlan = { header: [], scopes: [] };
    resources.push(rl);
    const rlFields: number[] = [];
    if (!fields(b, top[i + 2]!, top[i + 3]!, rlFields)) return undefined;
    for (let j = 0; j < rlFields.length; j += 4) {
      if (rlFields[j] !== 0x12) {
        rl.header.push(rlFields[j + 1]!, rlFields[j + 3]!);
        continue;
      }
      const sl: ScopePlan = { header: [], records: [] };
      rl.scopes.push(sl);
      const slFields: number[] = [];
      if (!fields(b, rlFields[j + 2]!, rlFields[j + 3]!, slFields)) return undefined;
      for (let k = 0; k < slFields.length; k += 4) {
        (slFields[k] === 0x12 ? sl.records : sl.header).push(slFields[k + 1]!, slFields[k + 3]!);
      }
    }
  }
  return resources;
}

function lengthPrefix(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}

/** Total bytes of the pairs `from` (inclusive) to `to` (exclusive) of `r`. */
function size(r: Ranges, from = 0, to = r.length / 2): number {
  let n = 0;
  for (let i = from; i < to; i++) n += r[2 * i + 1]! - r[2 * i]!;
  return n;
}

/**
 * A request holding one resource with at most one scope: `rlHeader`, then the scope's header
 * and its records `from` to `to`.
 */
function sliceRequest(
  b: Uint8Array,
  rlHeader: Ranges,
  sl?: { header: Ranges; records: Ranges; from: number; to: number },
): Uint8Array {
  const slBody = sl ? size(sl.header) + size(sl.records, sl.from, sl.to) : 0;
  const slField = sl ? 1 + lengthPrefix(slBody).length + slBody : 0;
  const rlBody = size(rlHeader) + slField;
  const out = new Uint8Array(1 + lengthPrefix(rlBody).length + rlBody);
  let pos = 0;
  const put = (bytes: ArrayLike<number>) => {
    out.set(bytes, pos);
    pos += bytes.length;
  };
  const copy = (r: Ranges, from = 0, to = r.length / 2) => {
    for (let i = from; i < to; i++) put(b.subarray(r[2 * i]!, r[2 * i + 1]!));
  };
  put([0x0a, ...lengthPrefix(rlBody)]);
  copy(rlHeader);
  if (sl) {
    put([0x12, ...lengthPrefix(slBody)]);
    copy(sl.header);
    copy(sl.records, sl.from, sl.to);
  }
  return out;
}

/**
 * Decodes ExportLogsServiceRequest bytes as `decodeLogsRequest` does; requests larger than
 * `sliceBytes` are decoded a slice at a time, yielding to the event loop whenever `yieldMs`
 * passed since the last time.
 *
 * @throws {OtlpDecodeError} when the bytes are not a valid request
 */
export async function decodeLogsRequestSliced(
  bytes: Uint8Array,
  sliceBytes = SLICE_BYTES,
  yieldMs = 4,
): Promise<Logs> {
  if (bytes.length <= sliceBytes) return decodeLogsRequest(bytes);
  const resources = plan(bytes);
  if (resources === undefined) return decodeLogsRequest(bytes);
  const turns = new LoopTurns(yieldMs);
  const decode = async (req: Uint8Array): Promise<ResourceLogs> => {
    await turns.pause();
    return decodeLogsRequest(req).resourceLogs[0]!;
  };
  const logs: Logs = { resourceLogs: [] };
  for (const rp of resources) {
    if (rp.scopes.length === 0) {
      logs.resourceLogs.push(await decode(sliceRequest(bytes, rp.header)));
      continue;
    }
    let rl: ResourceLogs | undefined;
    for (const sp of rp.scopes) {
      let sl: ScopeLogs | undefined;
      const count = sp.records.length / 2;
      let i = 0;
      do {
        // At least one record per slice, then as many as fit in `sliceBytes`.
        let j = Math.min(i + 1, count);
        let bytesIn = size(sp.records, i, j);
        while (j < count) {
          const n = sp.records[2 * j + 1]! - sp.records[2 * j]!;
          if (bytesIn + n > sliceBytes) break;
          bytesIn += n;
          j++;
        }
        const piece = await decode(
          sliceRequest(bytes, rp.header, {
            header: sp.header,
            records: sp.records,
            from: i,
            to: j,
          }),
        );
        const pieceScope = piece.scopeLogs[0]!;
        if (rl === undefined) {
          rl = piece;
          rl.scopeLogs = [];
          logs.resourceLogs.push(rl);
        }
        if (sl === undefined) {
          sl = pieceScope;
          rl.scopeLogs.push(sl);
        } else {
          for (const r of pieceScope.logRecords) sl.logRecords.push(r);
        }
        i = j;
      } while (i < count);
    }
  }
  return logs;
}
