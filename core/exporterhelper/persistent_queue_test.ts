import assert from "node:assert/strict";
import { createLogger } from "../telemetry/logger.ts";
import { PersistentQueue, type QueueCodec } from "./persistent_queue.ts";
import { QueueFullError } from "./queue.ts";
import { MemoryStorageClient } from "./testing.ts";

const codec: QueueCodec<string> = {
  encode: (v) => new TextEncoder().encode(v),
  decode: (b) => {
    const s = new TextDecoder().decode(b);
    if (s.startsWith("BAD")) throw new Error("cannot decode");
    return s;
  },
  size: (v) => v.length,
};

function open(
  data = new Map<string, Uint8Array>(),
  over: { capacity?: number; sizer?: "requests" | "items" | "bytes"; lines?: string[] } = {},
): { q: PersistentQueue<string>; client: MemoryStorageClient; corrupt: string[] } {
  const client = new MemoryStorageClient(data);
  const corrupt: string[] = [];
  const lines = over.lines;
  const q = new PersistentQueue<string>({
    capacity: over.capacity ?? 1000,
    blockOnOverflow: false,
    client,
    codec,
    sizer: over.sizer ?? "requests",
    logger: lines ? createLogger({ level: "debug", sink: (l) => lines.push(l) }) : undefined,
    onCorrupt: (r) => corrupt.push(r),
  });
  return { q, client, corrupt };
}

async function drain(q: PersistentQueue<string>, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = await q.read();
    out.push(e!.value);
    await q.done(e!);
  }
  return out;
}

Deno.test("PersistentQueue stores each request before offer resolves", async () => {
  const { q, client } = open();
  await q.start();
  await q.offer("one", 1);
  await q.offer("two", 1);
  const keys = [...client.data.keys()].sort();
  assert.deepEqual(keys, ["i0", "i1", "meta"]);
  assert.equal(q.length, 2);
});

Deno.test("PersistentQueue deletes a request only when done", async () => {
  const { q, client } = open();
  await q.start();
  await q.offer("one", 1);
  const e = await q.read();
  assert.ok(client.data.has("i0"), "still stored while being sent");
  await q.done(e!);
  assert.ok(!client.data.has("i0"));
  assert.equal(q.size, 0);
});

Deno.test("PersistentQueue: after a crash, queued and in-flight requests come back in order", async () => {
  const data = new Map<string, Uint8Array>();
  {
    const { q } = open(data);
    await q.start();
    for (const v of ["a", "b", "c", "d", "e"]) await q.offer(v, 1);
    const a = await q.read();
    await q.done(a!); // sent
    await q.read(); // "b" in flight when the process dies: not done
    const c = await q.read();
    await q.done(c!); // sent out of order
    // crash: no shutdown, no close
  }
  const { q } = open(data);
  await q.start();
  assert.equal(q.length, 3);
  assert.deepEqual(await drain(q, 3), ["b", "d", "e"]);
  await q.offer("f", 1);
  assert.deepEqual(await drain(q, 1), ["f"], "new writes go after the recovered ones");
});

Deno.test("PersistentQueue survives many restarts without losing or reordering", async () => {
  const data = new Map<string, Uint8Array>();
  const seen: string[] = [];
  let next = 0;
  for (let run = 0; run < 20; run++) {
    const { q } = open(data);
    await q.start();
    for (let i = 0; i < 7; i++) await q.offer(String(next++), 1);
    // Send a few; leave one in flight at the "crash".
    for (let i = 0; i < 5; i++) {
      const e = await q.read();
      seen.push(e!.value);
      await q.done(e!);
    }
    await q.read();
  }
  const { q } = open(data);
  await q.start();
  const rest = await drain(q, q.length);
  // The request in flight at each crash is read first after it: nothing is reordered.
  const all = [...seen, ...rest].map(Number);
  assert.deepEqual(all, Array.from({ length: next }, (_, i) => i), "every request once, in order");
  assert.equal(q.size, 0);
});

Deno.test("PersistentQueue counts recovered sizes against the capacity", async () => {
  const data = new Map<string, Uint8Array>();
  {
    const { q } = open(data, { capacity: 10, sizer: "bytes" });
    await q.start();
    await q.offer("abcd", 4);
    await q.offer("efgh", 4);
  }
  const { q } = open(data, { capacity: 10, sizer: "bytes" });
  await q.start();
  assert.equal(q.size, 8);
  await assert.rejects(q.offer("ijkl", 4), QueueFullError);
});

Deno.test("PersistentQueue re-measures stored requests when the sizer changed", async () => {
  const data = new Map<string, Uint8Array>();
  {
    const { q } = open(data, { sizer: "requests" });
    await q.start();
    await q.offer("abcdef", 1);
  }
  const { q } = open(data, { sizer: "bytes", capacity: 10 });
  await q.start();
  assert.equal(q.size, 6);
  const e = await q.read();
  await q.done(e!);
  assert.equal(q.size, 0, "draining releases what start counted, not the header's old size");
  await q.offer("abcdefgh", 8);
  assert.equal(q.size, 8);
});

Deno.test("PersistentQueue drops an undecodable request, logs it and moves on", async () => {
  const lines: string[] = [];
  const { q, client, corrupt } = open(new Map(), { lines });
  await q.start();
  await q.offer("BAD request", 1);
  await q.offer("good", 1);
  const e = await q.read();
  assert.equal(e?.value, "good");
  assert.equal(corrupt.length, 1);
  assert.ok(!client.data.has("i0"), "the bad item is removed");
  assert.ok(lines.some((l) => l.includes("Dropping an unreadable request")));
  assert.equal(q.size, 1, "its room was released");
});

Deno.test("PersistentQueue drops items with a broken header at start", async () => {
  const data = new Map<string, Uint8Array>();
  {
    const { q } = open(data);
    await q.start();
    await q.offer("x", 1);
    await q.offer("y", 1);
  }
  data.set("i0", new Uint8Array([1, 2, 3]));
  const { q, corrupt } = open(data);
  await q.start();
  assert.equal(corrupt.length, 1);
  assert.deepEqual(await drain(q, 1), ["y"]);
  assert.ok(!data.has("i0"));
});

Deno.test("PersistentQueue starts empty, with an error logged, when its metadata is unreadable", async () => {
  const data = new Map<string, Uint8Array>([["meta", new TextEncoder().encode("{not json")]]);
  const lines: string[] = [];
  const { q } = open(data, { lines });
  await q.start();
  assert.equal(q.length, 0);
  assert.ok(lines.some((l) => l.includes("metadata is unreadable")));
  await q.offer("z", 1);
  assert.deepEqual(await drain(q, 1), ["z"]);
});

Deno.test("PersistentQueue: a failed storage write rejects the offer and frees its room", async () => {
  const { q, client } = open(new Map(), { capacity: 1 });
  await q.start();
  client.failWrites = 1;
  await assert.rejects(q.offer("lost", 1), /injected storage failure/);
  assert.equal(q.size, 0);
  assert.equal(q.length, 0);
  await q.offer("kept", 1);
  assert.deepEqual(await drain(q, 1), ["kept"]);
});

function storedMeta(data: Map<string, Uint8Array>): { r: number; w: number } {
  return JSON.parse(new TextDecoder().decode(data.get("meta")));
}

Deno.test("PersistentQueue repeats a failed delete in the next transaction", async () => {
  const { q, client } = open();
  await q.start();
  for (const v of ["a", "b"]) await q.offer(v, 1);
  const a = await q.read();
  client.failWrites = 1;
  await assert.rejects(q.done(a!), /injected storage failure/);
  assert.ok(client.data.has("i0"), "the failed delete left the item");
  assert.equal(q.size, 1, "its room is free all the same");
  await q.offer("c", 1); // the next transaction deletes i0 as well
  assert.ok(!client.data.has("i0"));
  assert.deepEqual(await drain(q, 2), ["b", "c"]);
  assert.deepEqual([...client.data.keys()], ["meta"], "nothing left behind");
  assert.deepEqual(storedMeta(client.data), { v: 1, r: 3, w: 3, s: "requests" });
});

Deno.test("PersistentQueue: after failed deletes and a crash, those requests come back", async () => {
  const data = new Map<string, Uint8Array>();
  {
    const { q, client } = open(data);
    await q.start();
    for (const v of ["a", "b", "c"]) await q.offer(v, 1);
    client.failWrites = 2;
    const a = await q.read();
    await assert.rejects(q.done(a!)); // fails
    const b = await q.read();
    await assert.rejects(q.done(b!)); // fails again, with the retry of a's delete
    assert.equal(storedMeta(data).r, 0, "r never passed an item still stored");
    // crash before any retry could succeed
  }
  const { q, client } = open(data);
  await q.start();
  assert.deepEqual(await drain(q, 3), ["a", "b", "c"], "sent again (duplicates), none leaked");
  assert.deepEqual([...client.data.keys()], ["meta"]);
  assert.deepEqual(storedMeta(client.data), { v: 1, r: 3, w: 3, s: "requests" });
});

Deno.test("PersistentQueue shutdown retries a failed delete", async () => {
  const { q, client } = open();
  await q.start();
  await q.offer("a", 1);
  const a = await q.read();
  client.failWrites = 1;
  await assert.rejects(q.done(a!));
  await q.shutdown();
  assert.deepEqual([...client.data.keys()], ["meta"]);
});

Deno.test("PersistentQueue group-commits concurrent offers into few transactions", async () => {
  const { q, client } = open();
  await q.start();
  const before = client.batches;
  await Promise.all(Array.from({ length: 100 }, (_, i) => q.offer(`v${i}`, 1)));
  const used = client.batches - before;
  assert.ok(used <= 3, `100 offers took ${used} transactions`);
  const got = await drain(q, 100);
  assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => `v${i}`));
});

Deno.test("PersistentQueue shutdown closes the storage client", async () => {
  const { q, client } = open();
  await q.start();
  await q.offer("a", 1);
  await q.shutdown();
  assert.equal(client.closed, true);
  assert.equal(await q.read(), undefined);
});

Deno.test("PersistentQueue refuses offers before start, so it never overwrites stored requests", async () => {
  const data = new Map<string, Uint8Array>();
  {
    const { q } = open(data);
    await q.start();
    await q.offer("old", 1);
  }
  const { q } = open(data);
  await assert.rejects(q.offer("new", 1), /not started yet/);
  await q.start();
  assert.deepEqual(await drain(q, 1), ["old"]);
});
