/**
 * Measuring, merging and splitting batches of logs, for the queue's `sizer` and for
 * batching (the exporter's `sending_queue::batch` and the `batch` processor).
 *
 * @module
 */

import { logsRequestSize } from "../pdata/otlp_proto.ts";
import {
  cloneResource,
  cloneScope,
  type LogRecord,
  logRecordCount,
  type Logs,
  type ResourceLogs,
  type ScopeLogs,
} from "../pdata/logs.ts";
import type { SizerType } from "./config.ts";

/** Measures `logs` in the unit of `sizer`: 1 per request, log records, or protobuf bytes. */
export function sizeOf(sizer: SizerType, logs: Logs): number {
  if (sizer === "requests") return 1;
  if (sizer === "items") return logRecordCount(logs);
  return logsRequestSize(logs);
}

// Length prefixes of the resource and scope envelopes grow with their content (varints of
// up to 5 bytes); these margins keep byte estimates on the safe side.
const RESOURCE_SLACK = 4;
const SCOPE_SLACK = 4;

function resourceEnvelope(rl: ResourceLogs): number {
  return logsRequestSize({ resourceLogs: [{ ...rl, scopeLogs: [] }] }) + RESOURCE_SLACK;
}

function scopeEnvelope(rl: ResourceLogs, sl: ScopeLogs): number {
  const base = { ...rl, scopeLogs: [] };
  return logsRequestSize({ resourceLogs: [{ ...base, scopeLogs: [{ ...sl, logRecords: [] }] }] }) -
    logsRequestSize({ resourceLogs: [base] }) + SCOPE_SLACK;
}

const EMPTY_ENVELOPE: Logs = {
  resourceLogs: [{
    resource: { attributes: [], droppedAttributesCount: 0 },
    schemaUrl: "",
    scopeLogs: [{
      scope: { name: "", version: "", attributes: [], droppedAttributesCount: 0 },
      schemaUrl: "",
      logRecords: [],
    }],
  }],
};

/** Bytes one record adds inside its scope (its field, and any growth of the prefixes). */
export function recordSize(r: LogRecord): number {
  const empty = emptyEnvelopeSize();
  const sl = EMPTY_ENVELOPE.resourceLogs[0]!.scopeLogs[0]!;
  sl.logRecords = [r];
  try {
    return logsRequestSize(EMPTY_ENVELOPE) - empty;
  } finally {
    sl.logRecords = [];
  }
}

let emptySize = -1;
function emptyEnvelopeSize(): number {
  if (emptySize < 0) emptySize = logsRequestSize(EMPTY_ENVELOPE);
  return emptySize;
}

/**
 * Splits `logs` into consecutive pieces: the first holds at most `firstLimit` in `sizer`
 * units, the others at most `limit`, each at least one record. One pass over the records;
 * `logs` is not changed. A resource or scope split across pieces is copied into every piece
 * after its first, so no two pieces share an envelope object.
 */
export function splitLogs(
  logs: Logs,
  firstLimit: number,
  limit: number,
  sizer: "items" | "bytes",
): Logs[] {
  const bytes = sizer === "bytes";
  const pieces: Logs[] = [];
  let piece: Logs = { resourceLogs: [] };
  let room = firstLimit;
  let used = 0;
  let records = 0;
  const fits = (n: number): boolean => records === 0 || used + n <= room;
  const nextPiece = (): void => {
    pieces.push(piece);
    piece = { resourceLogs: [] };
    room = limit;
    used = 0;
    records = 0;
  };
  for (const rl of logs.resourceLogs) {
    const rlCost = bytes ? resourceEnvelope(rl) : 0;
    if (!fits(rlCost)) nextPiece();
    used += rlCost;
    let resource = rl.resource;
    let rlOut: ResourceLogs = { resource, schemaUrl: rl.schemaUrl, scopeLogs: [] };
    piece.resourceLogs.push(rlOut);
    // Continues `rl` in a new piece, with a copy of its resource.
    const continueResource = (): void => {
      if (rlOut.scopeLogs.length === 0) piece.resourceLogs.pop();
      nextPiece();
      used += rlCost;
      resource = cloneResource(resource);
      rlOut = { resource, schemaUrl: rl.schemaUrl, scopeLogs: [] };
      piece.resourceLogs.push(rlOut);
    };
    for (const sl of rl.scopeLogs) {
      const slCost = bytes ? scopeEnvelope(rl, sl) : 0;
      if (!fits(slCost)) continueResource();
      used += slCost;
      const all = sl.logRecords;
      let slOut: ScopeLogs = { scope: sl.scope, schemaUrl: sl.schemaUrl, logRecords: all };
      rlOut.scopeLogs.push(slOut);
      let start = 0;
      let i = 0;
      while (i < all.length) {
        // How many of the next records fit (counted at once by items, one by one by bytes),
        // and what they add.
        let n: number;
        let cost: number;
        if (bytes) {
          cost = recordSize(all[i]!);
          n = fits(cost) ? 1 : 0;
        } else {
          n = Math.min(all.length - i, records === 0 ? Math.max(1, room - used) : room - used);
          cost = n;
        }
        if (n <= 0) {
          // A scope none of whose records made it into this piece is left out of it.
          if (i === start) rlOut.scopeLogs.pop();
          else slOut.logRecords = all.slice(start, i);
          start = i;
          continueResource();
          used += slCost;
          slOut = { scope: cloneScope(slOut.scope), schemaUrl: sl.schemaUrl, logRecords: all };
          rlOut.scopeLogs.push(slOut);
          continue;
        }
        used += cost;
        records += n;
        i += n;
      }
      if (start > 0) slOut.logRecords = all.slice(start);
    }
  }
  if (piece.resourceLogs.length > 0) pieces.push(piece);
  return pieces;
}
