import assert from "node:assert/strict";
import { abortableSleep, Backoff, settledWithin, untilAborted } from "./async.ts";

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
