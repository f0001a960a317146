import assert from "node:assert/strict";
import { isPermanent, PermanentError } from "../consumer.ts";
import type { ClientInfo } from "../consumer.ts";
import { EncodedLogs, encodedPieces } from "../pdata/encoded_logs.ts";
import { logRecordCount, type Logs } from "../pdata/logs.ts";
import { encodeLogsRequest, logsRequestSize } from "../pdata/otlp_proto.ts";
import { randomLogs } from "../pdata/testing.ts";
import { idsOf, logsWithIds, range } from "./_test_logs.ts";
import {
  Batcher,
  type BatcherOptions,
  PartitionedBatcher,
  type PartitionedBatcherOptions,
  TooManyPartitionsError,
} from "./batcher.ts";
import { splitLogs } from "./logs_batch.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Sent {
  logs: Logs;
  client?: ClientInfo;
}

function collect(): { sent: Sent[]; send: (logs: Logs, client?: ClientInfo) => Promise<void> } {
  const sent: Sent[] = [];
  return { sent, send: (logs, client) => (sent.push({ logs, client }), Promise.resolve()) };
}

function batcher(over: Partial<BatcherOptions>, send: (l: Logs) => Promise<void>): Batcher {
  return new Batcher({ sizer: "items", minSize: 10, maxSize: 0, timeoutMs: 10_000, send, ...over });
}

Deno.test("Batcher sends once the batch reaches the size, resolving producers only then", async () => {
  const { sent, send } = collect();
  const b = batcher({ minSize: 10 }, send);
  let firstDone = false;
  const first = b.add(logsWithIds(range(0, 6))).then(() => firstDone = true);
  await sleep(5);
  assert.equal(sent.length, 0);
  assert.equal(firstDone, false, "not acknowledged before its batch was sent");
  const second = b.add(logsWithIds(range(6, 12)));
  await Promise.all([first, second]);
  assert.equal(sent.length, 1);
  assert.deepEqual(idsOf(sent[0]!.logs), range(0, 12));
});

Deno.test("Batcher sends what is pending after the timeout", async () => {
  const { sent, send } = collect();
  const b = batcher({ minSize: 1000, timeoutMs: 30 }, send);
  const t0 = performance.now();
  await b.add(logsWithIds([1, 2, 3]));
  assert.ok(performance.now() - t0 >= 25, "waited for the timer");
  assert.equal(sent.length, 1);
  assert.deepEqual(idsOf(sent[0]!.logs), [1, 2, 3]);
});

Deno.test("Batcher with timeout 0 or size 0 sends every piece at once", async () => {
  for (const over of [{ timeoutMs: 0 }, { minSize: 0 }]) {
    const { sent, send } = collect();
    const b = batcher(over, send);
    await b.add(logsWithIds([1]));
    await b.add(logsWithIds([2, 3]));
    assert.deepEqual(sent.map((s) => idsOf(s.logs)), [[1], [2, 3]]);
  }
});

Deno.test("Batcher splits at send_batch_max_size; a producer settles after all its parts", async () => {
  const sent: number[][] = [];
  const gates: Array<() => void> = [];
  const b = batcher({ minSize: 10, maxSize: 10 }, (logs) => {
    sent.push(idsOf(logs));
    return new Promise((r) => gates.push(r));
  });
  let done = false;
  const p = b.add(logsWithIds(range(0, 25))).then(() => done = true);
  await sleep(0);
  assert.deepEqual(sent, [range(0, 10), range(10, 20)]);
  gates[0]!();
  await sleep(0);
  assert.equal(done, false);
  gates[1]!();
  await sleep(0);
  assert.equal(done, false, "5 records still pending");
  const flushed = b.flushAll();
  assert.deepEqual(sent[2], range(20, 25));
  gates[2]!();
  await flushed;
  await p;
  assert.equal(done, true);
});

Deno.test("Batcher rejects every producer of a failed batch with the send error", async () => {
  const err = new PermanentError("400 bad data");
  const b = batcher({ minSize: 4 }, () => Promise.reject(err));
  const a = b.add(logsWithIds([1, 2]));
  const c = b.add(logsWithIds([3, 4]));
  await assert.rejects(a, (e) => e === err);
  await assert.rejects(c, (e) => e === err);
});

Deno.test("Batcher: a send that throws synchronously still rejects its producers", async () => {
  const b = batcher({ minSize: 1 }, () => {
    throw new Error("sync boom");
  });
  await assert.rejects(b.add(logsWithIds([1])), /sync boom/);
});

Deno.test("Batcher flushAll sends the remainder and waits for sends in flight", async () => {
  let release!: () => void;
  const sent: number[][] = [];
  const b = batcher({ minSize: 100 }, (logs) => {
    sent.push(idsOf(logs));
    return new Promise((r) => release = r);
  });
  const p = b.add(logsWithIds([7, 8]));
  let flushed = false;
  const f = b.flushAll().then(() => flushed = true);
  await sleep(0);
  assert.deepEqual(sent, [[7, 8]]);
  assert.equal(flushed, false);
  release();
  await f;
  await p;
  assert.equal(flushed, true);
});

Deno.test("Batcher by bytes keeps every batch within max_size and loses nothing", async () => {
  const sent: Logs[] = [];
  const b = new Batcher({
    sizer: "bytes",
    minSize: 3000,
    maxSize: 4000,
    timeoutMs: 10_000,
    send: (l) => (sent.push(l), Promise.resolve()),
  });
  const adds: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) {
    adds.push(b.add(logsWithIds(range(i * 10, i * 10 + 10), "svc", 200)));
  }
  await b.flushAll();
  await Promise.all(adds);
  for (const s of sent) {
    assert.ok(logsRequestSize(s) <= 4000, `batch of ${logsRequestSize(s)} bytes`);
  }
  assert.deepEqual(sent.flatMap(idsOf), range(0, 400));
  assert.ok(sent.length >= 20, `split into ${sent.length} batches`);
});

Deno.test("Batcher splits large and small pieces into many batches in order", async () => {
  // Sends are held until released, so pieces pile up and split pieces land both in front of
  // pending ones and behind already-taken ones.
  const sent: number[][] = [];
  const gates: (() => void)[] = [];
  const b = batcher({ minSize: 7, maxSize: 7 }, (logs) => {
    sent.push(idsOf(logs));
    return new Promise<void>((r) => gates.push(r));
  });
  const sizes = [3, 20_000, 1, 9, 30, 2, 7, 15, 4, 1000, 6, 8];
  let next = 0;
  const done: boolean[] = [];
  const adds = sizes.map((n, i) => {
    const ids = range(next, next + n);
    next += n;
    done.push(false);
    return b.add(logsWithIds(ids)).then(() => done[i] = true);
  });
  const flushed = b.flushAll(); // hands the rest to `send` at once
  await sleep(1);
  assert.ok(done.every((d) => !d), "nobody resolves before their batches were accepted");
  for (const open of gates) open();
  await flushed;
  await Promise.all(adds);
  assert.ok(sent.every((ids) => ids.length >= 1 && ids.length <= 7));
  assert.deepEqual(sent.flat(), range(0, next), "every record once, in order");
});

Deno.test("splitLogs() splits random batches without losing, reordering or mangling a record", () => {
  const flat = (l: Logs) =>
    l.resourceLogs.flatMap((rl) =>
      rl.scopeLogs.flatMap((sl) =>
        sl.logRecords.map((r) => ({
          res: rl.resource,
          scope: sl.scope,
          r,
          rs: rl.schemaUrl,
          ss: sl.schemaUrl,
        }))
      )
    );
  for (let seed = 1; seed <= 30; seed++) {
    const original = randomLogs(seed);
    const reference = randomLogs(seed);
    if (logRecordCount(original) === 0) continue;
    const first = 1 + (seed % 3);
    const limit = 1 + (seed % 7);
    const pieces = splitLogs(original, first, limit, "items");
    assert.deepEqual(original, reference, `seed ${seed}: the input is not changed`);
    pieces.forEach((p, i) => {
      const n = logRecordCount(p);
      assert.ok(n >= 1 && n <= (i === 0 ? first : limit), `seed ${seed} piece ${i}: ${n}`);
    });
    assert.deepEqual(pieces.flatMap(flat), flat(reference), `seed ${seed}`);
    // No resource or scope object is shared by two pieces (each may be changed downstream).
    const owner = new Map<object, number>();
    pieces.forEach((p, i) => {
      for (const rl of p.resourceLogs) {
        for (const o of [rl, rl.resource, ...rl.scopeLogs, ...rl.scopeLogs.map((s) => s.scope)]) {
          assert.ok(
            (owner.get(o) ?? i) === i,
            `seed ${seed}: an envelope in pieces ${i} and ${owner.get(o)}`,
          );
          owner.set(o, i);
        }
      }
    });
  }
});

Deno.test("splitLogs() by bytes fills pieces up to the limit, but always takes one record", () => {
  const logs = logsWithIds(range(0, 50), "svc", 100);
  const pieces = splitLogs(logs, 600, 1000, "bytes");
  assert.ok(logsRequestSize(pieces[0]!) <= 600, `${logsRequestSize(pieces[0]!)}`);
  for (const p of pieces.slice(1, -1)) {
    const n = logsRequestSize(p);
    assert.ok(n <= 1000 && n > 700, `a middle piece of ${n} bytes`);
  }
  assert.deepEqual(pieces.flatMap(idsOf), range(0, 50));
  const tiny = splitLogs(logs, 10, 10, "bytes");
  assert.equal(tiny.length, 50, "one record each when none fits");
});

Deno.test("PartitionedBatcher batches per metadata value and passes only those keys on", async () => {
  const { sent, send } = collect();
  const pb = new PartitionedBatcher({
    sizer: "items",
    minSize: 4,
    maxSize: 0,
    timeoutMs: 10_000,
    metadataKeys: ["X-Tenant"],
    cardinalityLimit: 10,
    send,
  });
  const meta = (t: string): ClientInfo => ({
    metadata: new Map([["x-tenant", [t]], ["authorization", ["secret"]]]),
  });
  const ps = [
    pb.add(logsWithIds([1, 2]), meta("a")),
    pb.add(logsWithIds([10, 11]), meta("b")),
    pb.add(logsWithIds([3, 4]), meta("a")),
    pb.add(logsWithIds([12, 13]), meta("b")),
  ];
  await Promise.all(ps);
  assert.equal(sent.length, 2);
  const byTenant = new Map(
    sent.map((s) => [s.client?.metadata?.get("x-tenant")?.[0], idsOf(s.logs)]),
  );
  assert.deepEqual(byTenant.get("a"), [1, 2, 3, 4]);
  assert.deepEqual(byTenant.get("b"), [10, 11, 12, 13]);
  for (const s of sent) assert.deepEqual([...s.client!.metadata!.keys()], ["x-tenant"]);
});

/** A partitioned batcher by the `tenant` key, limited to two partitions, sending at once. */
function byTenant(
  send: (l: Logs, c?: ClientInfo) => Promise<void>,
  over: Partial<PartitionedBatcherOptions> = {},
): PartitionedBatcher {
  return new PartitionedBatcher({
    sizer: "items",
    minSize: 1,
    maxSize: 0,
    timeoutMs: 10,
    metadataKeys: ["tenant"],
    cardinalityLimit: 2,
    send,
    ...over,
  });
}

/** Client metadata naming one tenant. */
function tenant(t: string): ClientInfo {
  return { metadata: new Map([["tenant", [t]]]) };
}

Deno.test("PartitionedBatcher refuses a partition over metadata_cardinality_limit, permanently", async () => {
  const { send } = collect();
  const pb = byTenant(send);

  await pb.add(logsWithIds([1]), tenant("a"));
  await pb.add(logsWithIds([2]), tenant("b"));
  await pb.add(logsWithIds([3]), tenant("a"));
  await assert.rejects(
    pb.add(logsWithIds([4]), tenant("c")),
    (e) => e instanceof TooManyPartitionsError && isPermanent(e),
  );
  // Missing metadata is a partition of its own too.
  await assert.rejects(pb.add(logsWithIds([5]), undefined), TooManyPartitionsError);
});

Deno.test("PartitionedBatcher with evictIdle forgets idle partitions instead of refusing", async () => {
  const { send } = collect();
  const pb = byTenant(send, { evictIdle: true });

  for (let i = 0; i < 50; i++) await pb.add(logsWithIds([i]), tenant(`tenant-${i}`));
  // Two partitions that are both busy still hit the limit.
  const slow = byTenant(() => new Promise(() => {}), { evictIdle: true });
  void slow.add(logsWithIds([1]), tenant("a"));
  void slow.add(logsWithIds([2]), tenant("b"));
  await assert.rejects(slow.add(logsWithIds([3]), tenant("c")), TooManyPartitionsError);
});

Deno.test("Batcher joins pieces still held encoded as bytes, without decoding them", async () => {
  const { sent, send } = collect();
  const b = batcher({ minSize: 12 }, send);
  const asEncoded = (ids: number[]) => {
    const logs = logsWithIds(ids);
    return new EncodedLogs([encodeLogsRequest(logs)], logRecordCount(logs));
  };
  await Promise.all([b.add(asEncoded(range(0, 6))), b.add(asEncoded(range(6, 12)))]);
  assert.equal(sent.length, 1);
  assert.equal(encodedPieces(sent[0]!.logs)?.length, 2, "the two encodings, one after the other");
  assert.deepEqual(idsOf(sent[0]!.logs), range(0, 12));
  // With a piece that is not encoded in the batch, the batch is made of objects.
  await Promise.all([b.add(asEncoded(range(0, 6))), b.add(logsWithIds(range(6, 12)))]);
  assert.equal(encodedPieces(sent[1]!.logs), undefined);
  assert.deepEqual(idsOf(sent[1]!.logs), range(0, 12));
});
