import assert from "node:assert/strict";
import { Fifo, MemoryQueue, QueueClosedError, QueueFullError } from "./queue.ts";

function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

Deno.test("MemoryQueue hands requests out in order and counts size until done", async () => {
  const q = new MemoryQueue<string>({ capacity: 10, blockOnOverflow: false });
  await q.start();
  await q.offer("a", 3);
  await q.offer("b", 4);
  assert.equal(q.size, 7);
  assert.equal(q.length, 2);
  const a = await q.read();
  const b = await q.read();
  assert.deepEqual([a?.value, b?.value], ["a", "b"]);
  assert.equal(q.size, 7, "in-flight requests still take room");
  await q.done(a!);
  assert.equal(q.size, 4);
  await q.done(b!);
  assert.equal(q.size, 0);
  assert.equal(q.length, 0);
});

Deno.test("MemoryQueue refuses with a retryable QueueFullError when full and not blocking", async () => {
  const q = new MemoryQueue<string>({ capacity: 5, blockOnOverflow: false });
  await q.offer("a", 3);
  await assert.rejects(
    q.offer("b", 3),
    (e) => e instanceof QueueFullError && /queue_size/.test(e.message),
  );
  await q.offer("c", 2); // exactly fills it
  assert.equal(q.size, 5);
});

Deno.test("MemoryQueue blocks when full and block_on_overflow, until a request is done", async () => {
  const q = new MemoryQueue<string>({ capacity: 2, blockOnOverflow: true });
  await q.offer("a", 2);
  let accepted = false;
  const p = q.offer("b", 1).then(() => accepted = true);
  await tick();
  assert.equal(accepted, false);
  const a = await q.read();
  await tick();
  assert.equal(accepted, false, "reading does not free room; done does");
  await q.done(a!);
  await p;
  assert.equal(accepted, true);
  assert.equal((await q.read())?.value, "b");
});

Deno.test("MemoryQueue: a blocked offer gives up when its signal aborts", async () => {
  const q = new MemoryQueue<string>({ capacity: 1, blockOnOverflow: true });
  await q.offer("a", 1);
  const ac = new AbortController();
  const p = q.offer("b", 1, ac.signal);
  ac.abort();
  await assert.rejects(p, /Gave up waiting for room/);
  assert.equal(q.length, 1);
});

Deno.test("MemoryQueue lets one oversized request in when empty instead of refusing it forever", async () => {
  const q = new MemoryQueue<string>({ capacity: 10, blockOnOverflow: false });
  await q.offer("huge", 50);
  assert.equal(q.size, 50);
  await assert.rejects(q.offer("small", 1), QueueFullError);
});

Deno.test("MemoryQueue readers wait for data; close lets them drain, then gives undefined", async () => {
  const q = new MemoryQueue<number>({ capacity: 100, blockOnOverflow: false });
  const r1 = q.read();
  const r2 = q.read();
  await q.offer(1, 1);
  await q.offer(2, 1);
  assert.deepEqual([(await r1)?.value, (await r2)?.value].sort(), [1, 2]);
  await q.offer(3, 1);
  q.close();
  await assert.rejects(q.offer(4, 1), QueueClosedError);
  assert.equal((await q.read())?.value, 3);
  assert.equal(await q.read(), undefined);
});

Deno.test("MemoryQueue stop() wakes waiting readers with undefined and keeps the rest", async () => {
  const q = new MemoryQueue<number>({ capacity: 100, blockOnOverflow: false });
  const waiting = q.read();
  q.stop();
  assert.equal(await waiting, undefined);
  const q2 = new MemoryQueue<number>({ capacity: 100, blockOnOverflow: false });
  await q2.offer(1, 1);
  await q2.offer(2, 1);
  q2.stop();
  assert.equal(await q2.read(), undefined);
  assert.deepEqual(q2.drainPending().map((e) => e.value), [1, 2]);
});

Deno.test("MemoryQueue keeps FIFO order across many offers and reads", async () => {
  const q = new MemoryQueue<number>({ capacity: 1e9, blockOnOverflow: false });
  const got: number[] = [];
  for (let i = 0; i < 5000; i++) {
    await q.offer(i, 1);
    if (i % 3 === 0) got.push((await q.read())!.value);
  }
  q.close();
  for (let e = await q.read(); e !== undefined; e = await q.read()) got.push(e.value);
  assert.deepEqual(got, Array.from({ length: 5000 }, (_, i) => i));
});

Deno.test("Fifo keeps order through shift, unshift, unshiftAll with and without room, takeAll", () => {
  const f = new Fifo<number>();
  const model: number[] = [];
  let next = 0;
  for (let round = 0; round < 3000; round++) {
    const op = (round * 7919) % 5;
    if (op <= 1) {
      f.push(next);
      model.push(next++);
    } else if (op === 2) {
      assert.equal(f.shift(), model.shift());
    } else if (op === 3) {
      const values = Array.from({ length: round % 4 }, () => next++);
      f.unshiftAll(values);
      model.unshift(...values);
    } else {
      assert.equal(f.peek(), model[0]);
    }
    assert.equal(f.length, model.length);
  }
  for (let i = 0; i < 2000; i++) f.shift(), model.shift(); // head past the compaction point
  f.unshiftAll([-1, -2]);
  model.unshift(-1, -2);
  assert.deepEqual(f.takeAll(), model);
  assert.equal(f.length, 0);
  assert.equal(f.peek(), undefined);
});
