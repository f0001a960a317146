import assert from "node:assert/strict";
import {
  concatEncoded,
  EncodedLogs,
  encodedPieces,
  joinedParts,
  joinPieces,
} from "./encoded_logs.ts";
import { cloneLogs, logRecordCount, type Logs } from "./logs.ts";
import { decodeLogsRequest, encodeLogsRequest, logsRequestSize } from "./otlp_proto.ts";
import { randomLogs } from "./testing.ts";

/** `logs` as an EncodedLogs whose bytes are cut into pieces of `size` bytes. */
function encoded(logs: Logs, size = 50): EncodedLogs {
  const bytes = encodeLogsRequest(logs);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return new EncodedLogs(pieces, logRecordCount(logs));
}

Deno.test("EncodedLogs: counted, measured and encoded without decoding; decoded on first read", () => {
  const logs = randomLogs(9); // 9 records in 3 resources
  assert.ok(logRecordCount(logs) > 0);
  const e = encoded(logs);
  assert.equal(logRecordCount(e), logRecordCount(logs));
  assert.equal(logsRequestSize(e), logsRequestSize(logs));
  const bytes = encodeLogsRequest(e);
  assert.deepEqual(bytes, encodeLogsRequest(logs));
  bytes.fill(0); // the caller owns what it got: the batch keeps its own bytes
  assert.ok(encodedPieces(e) !== undefined, "still encoded");
  assert.deepEqual(e.resourceLogs, logs.resourceLogs);
  assert.equal(encodedPieces(e), undefined, "dropped once read: the reader may change the records");
  assert.equal(e.encodedRecords, undefined);
  const last = e.resourceLogs.pop()!;
  assert.equal(
    logRecordCount(e),
    logRecordCount(logs) - logRecordCount({ resourceLogs: [last] }),
    "counted from the records now",
  );
});

Deno.test("EncodedLogs: a clone for a consumer that changes data stays encoded and separate", () => {
  const logs = randomLogs(3, { maxRecords: 4 });
  const e = encoded(logs);
  const c = cloneLogs(e);
  assert.ok(encodedPieces(c) !== undefined);
  c.resourceLogs.length = 0; // the clone's reader changes what it got
  assert.ok(encodedPieces(e) !== undefined, "the original is untouched");
  assert.deepEqual(e.resourceLogs, logs.resourceLogs);
});

Deno.test("EncodedLogs: batches still encoded join as bytes; any other joins not at all", () => {
  const a = randomLogs(11), b = randomLogs(12);
  const joined = concatEncoded([encoded(a), encoded(b, 7)]);
  assert.ok(joined !== undefined);
  assert.equal(logRecordCount(joined), logRecordCount(a) + logRecordCount(b));
  assert.deepEqual(joined.resourceLogs, [...a.resourceLogs, ...b.resourceLogs]);
  assert.equal(concatEncoded([encoded(a), b]), undefined);
  const read = encoded(b);
  void read.resourceLogs;
  assert.equal(concatEncoded([encoded(a), read]), undefined);
});

Deno.test("joinedParts: copies of the size asked (the last smaller), together the whole encoding", () => {
  const bytes = encodeLogsRequest(randomLogs(5, { maxRecords: 20 }));
  assert.ok(bytes.length > 700);
  const pieces = [bytes.subarray(0, 10), bytes.subarray(10, 500), bytes.subarray(500)];
  const parts = [...joinedParts(pieces, 100)];
  assert.deepEqual(joinPieces(parts), bytes);
  assert.deepEqual(parts.map((p) => p.length), [
    ...Array(Math.floor(bytes.length / 100)).fill(100),
    ...(bytes.length % 100 ? [bytes.length % 100] : []),
  ], "pieces larger than a part are cut");
  for (const p of parts) assert.notEqual(p.buffer, bytes.buffer, "a copy");
  assert.deepEqual(decodeLogsRequest(joinPieces(parts)), decodeLogsRequest(bytes));
  // One reused buffer: each part is written once the previous one was used.
  const scratch = new Uint8Array(128);
  const viaScratch: Uint8Array[] = [];
  for (const p of joinedParts(pieces, 100, () => scratch)) viaScratch.push(p.slice());
  assert.deepEqual(joinPieces(viaScratch), bytes);
  // Buffers the caller moves away (to the compression worker) as each part comes.
  const moved: Uint8Array[] = [];
  for (const p of joinedParts(pieces, 100)) {
    moved.push(p.slice());
    structuredClone(p.buffer, { transfer: [p.buffer as ArrayBuffer] });
  }
  assert.deepEqual(joinPieces(moved), bytes);
  assert.deepEqual([...joinedParts([], 100)], []);
});
