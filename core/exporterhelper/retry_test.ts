import assert from "node:assert/strict";
import { PermanentError, RetryableError } from "../consumer.ts";
import { defaultRetryConfig, type RetryConfig } from "./config.ts";
import {
  parseRetryAfter,
  RetriesExhaustedError,
  RetryAbortedError,
  type RetryDeps,
  sendWithRetry,
} from "./retry.ts";

/** A fake clock: `sleep` advances time at once and records each wait. */
function fakeClock(random = 0.5): RetryDeps & { waits: number[]; t: number } {
  const c = {
    t: 0,
    waits: [] as number[],
    now: () => c.t,
    random: () => random,
    sleep: (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) return Promise.reject(signal.reason);
      c.waits.push(ms);
      c.t += ms;
      return Promise.resolve();
    },
  };
  return c;
}

const cfg = (over: Partial<RetryConfig> = {}): RetryConfig => ({
  ...defaultRetryConfig(),
  ...over,
});

Deno.test("sendWithRetry() retries retryable errors until success", async () => {
  const clock = fakeClock();
  let calls = 0;
  await sendWithRetry(
    () => {
      calls++;
      return calls < 4 ? Promise.reject(new Error("connection refused")) : Promise.resolve();
    },
    cfg(),
    { deps: clock },
  );
  assert.equal(calls, 4);
  assert.deepEqual(clock.waits, [5000, 7500, 11250]);
});

Deno.test("sendWithRetry() stops at once on a permanent error and rethrows it", async () => {
  const clock = fakeClock();
  let calls = 0;
  const err = new PermanentError("400 Bad Request");
  await assert.rejects(
    sendWithRetry(
      () => {
        calls++;
        return Promise.reject(err);
      },
      cfg(),
      { deps: clock },
    ),
    (e) => e === err,
  );
  assert.equal(calls, 1);
  assert.deepEqual(clock.waits, []);
});

Deno.test("sendWithRetry() waits at least Retry-After, and the backoff when that is longer", async () => {
  const clock = fakeClock();
  let calls = 0;
  await sendWithRetry(
    () => {
      calls++;
      if (calls === 1) return Promise.reject(new RetryableError("429", { retryAfterMs: 20_000 }));
      if (calls === 2) return Promise.reject(new RetryableError("503", { retryAfterMs: 1000 }));
      return Promise.resolve();
    },
    cfg(),
    { deps: clock },
  );
  assert.deepEqual(clock.waits, [20_000, 7500]);
});

Deno.test("sendWithRetry() finds Retry-After on a wrapped cause", async () => {
  const clock = fakeClock();
  let calls = 0;
  await sendWithRetry(
    () => {
      calls++;
      if (calls > 1) return Promise.resolve();
      const inner = new RetryableError("429", { retryAfterMs: 42_000 });
      return Promise.reject(new Error("wrapped", { cause: inner }));
    },
    cfg(),
    { deps: clock },
  );
  assert.deepEqual(clock.waits, [42_000]);
});

Deno.test("sendWithRetry() gives up when the next wait would pass max_elapsed_time", async () => {
  const clock = fakeClock();
  let calls = 0;
  const last = new Error("503 Service Unavailable");
  await assert.rejects(
    sendWithRetry(
      () => {
        calls++;
        return Promise.reject(last);
      },
      cfg({ maxElapsedTimeMs: 30_000 }),
      { deps: clock },
    ),
    (e) =>
      e instanceof RetriesExhaustedError && e.cause === last &&
      /No more retries left/.test(e.message),
  );
  // 5 + 7.5 + 11.25 = 23.75 s; the next wait (16.875 s) would end past 30 s.
  assert.deepEqual(clock.waits, [5000, 7500, 11250]);
  assert.equal(calls, 4);
});

Deno.test("sendWithRetry() with max_elapsed_time 0 retries for as long as it takes", async () => {
  const clock = fakeClock();
  let calls = 0;
  await sendWithRetry(
    () => {
      calls++;
      return calls < 500 ? Promise.reject(new Error("down")) : Promise.resolve();
    },
    cfg({ maxElapsedTimeMs: 0 }),
    { deps: clock },
  );
  assert.equal(calls, 500);
  assert.ok(clock.t > 3_600_000 * 4, "more than four hours of simulated waiting");
});

Deno.test("sendWithRetry() with retries disabled makes one attempt and returns its error", async () => {
  const clock = fakeClock();
  let calls = 0;
  const err = new Error("down");
  await assert.rejects(
    sendWithRetry(
      () => {
        calls++;
        return Promise.reject(err);
      },
      cfg({ enabled: false }),
      { deps: clock },
    ),
    (e) => e === err,
  );
  assert.equal(calls, 1);
});

Deno.test("sendWithRetry() stops waiting when aborted (shutdown) and says so", async () => {
  const ac = new AbortController();
  let calls = 0;
  const p = sendWithRetry(
    () => {
      calls++;
      return Promise.reject(new Error("down"));
    },
    cfg({ initialIntervalMs: 60_000, maxIntervalMs: 60_000 }),
    { signal: ac.signal },
  );
  setTimeout(() => ac.abort(new Error("shutdown")), 20);
  await assert.rejects(
    p,
    (e) => e instanceof RetryAbortedError && /interrupted by shutdown/.test(e.message),
  );
  assert.equal(calls, 1);
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates, ignores garbage", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("120", now), 120_000);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter("-5", now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});
