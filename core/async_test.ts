import assert from "node:assert/strict";
import {
  abortableSleep,
  Backoff,
  LoopTurns,
  OrderedWindow,
  settledWithin,
  untilAborted,
} from "./async.ts";

Deno.test("Backoff grows by the multiplier up to the maximum, jittered by the factor", () => {
  const cfg = {
    initialIntervalMs: 5000,
    maxIntervalMs: 30000,
    multiplier: 1.5,
    randomizationFactor: 0.5,
  };
  const mid = new Backoff(cfg, () => 0.5);
  assert.deepEqual(
    Array.from({ length: 8 }, () => mid.next()),
    [5000, 7500, 11250, 16875, 25312.5, 30000, 30000, 30000],
  );
  mid.reset();
  assert.equal(mid.next(), 5000);
  const low = new Backoff(cfg, () => 0);
  assert.equal(low.next(), 2500); // 5s * (1 - 0.5)
  const high = new Backoff(cfg, () => 0.999999);
  assert.ok(Math.abs(high.next() - 7500) < 0.01); // 5s * (1 + 0.5)
  const plain = new Backoff({ initialIntervalMs: 100, maxIntervalMs: 200 }, () => 0);
  assert.deepEqual([plain.next(), plain.next(), plain.next()], [100, 150, 200]);
});

Deno.test("abortableSleep() resolves after the time and rejects at once when already aborted", async () => {
  const t0 = performance.now();
  await abortableSleep(15);
  assert.ok(performance.now() - t0 >= 14);
  await assert.rejects(abortableSleep(1000, AbortSignal.abort(new Error("gone"))), /gone/);
});

Deno.test("settledWithin() tells whether the promise settled before the time ran out", async () => {
  assert.equal(await settledWithin(Promise.resolve(), 1000), true);
  assert.equal(await settledWithin(Promise.reject(new Error("x")), 1000), true);
  assert.equal(await settledWithin(new Promise(() => {}), 5), false);
});

Deno.test("untilAborted() resolves false on abort, true on resolve, and passes rejections on", async () => {
  const ac = new AbortController();
  const never = untilAborted(new Promise(() => {}), ac.signal);
  ac.abort();
  assert.equal(await never, false);
  assert.equal(await untilAborted(Promise.resolve(), new AbortController().signal), true);
  await assert.rejects(
    untilAborted(Promise.reject(new Error("no")), new AbortController().signal),
    /no/,
  );
  assert.equal(await untilAborted(Promise.resolve(), AbortSignal.abort()), false);
});

Deno.test("OrderedWindow keeps up to its limit in flight and commits in order", async () => {
  const w = new OrderedWindow(2);
  const gates: Array<(ok: boolean) => void> = [];
  const delivery = () => new Promise<boolean>((r) => gates.push(r));
  const commits: number[] = [];
  await w.add(delivery(), () => void commits.push(1));
  let room = false;
  const adding = w.add(delivery(), () => void commits.push(2)).then(() => room = true);
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(room, false, "two in flight: the caller waits");
  gates[1]!(true); // the second is accepted first: its commit waits for the first
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(commits.join(), "");
  gates[0]!(true);
  await adding;
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(commits.join(), "1,2");
  await w.add(delivery(), () => void commits.push(3));
  gates[2]!(true);
  assert.equal(await w.settled(), true);
  assert.equal(commits.join(), "1,2,3");
  assert.equal(w.inFlight, 0);
});

Deno.test("OrderedWindow: after an abandoned delivery no later commit runs", async () => {
  const w = new OrderedWindow(3);
  const commits: number[] = [];
  await w.add(Promise.resolve(true), () => void commits.push(1));
  await w.add(Promise.resolve(false), () => void commits.push(2));
  await w.add(Promise.resolve(true), () => void commits.push(3));
  await w.add(Promise.reject(new Error("x")), () => void commits.push(4));
  assert.equal(await w.settled(), false);
  assert.equal(commits.join(), "1");
});

Deno.test("LoopTurns: a timer runs during pause() once the work took the time, not before", async () => {
  const turns = new LoopTurns(20);
  let fired = false;
  setTimeout(() => fired = true, 0);
  await turns.pause();
  assert.equal(fired, false, "no turn before 20 ms of work");
  const until = performance.now() + 25;
  while (performance.now() < until) { /* work that holds the loop */ }
  assert.equal(fired, false);
  await turns.pause();
  assert.equal(fired, true, "the due timer ran in the turn");
});
