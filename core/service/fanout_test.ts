import assert from "node:assert/strict";
import { isPermanent, type LogsConsumer, PermanentError, RetryableError } from "../consumer.ts";
import { logsWithIds } from "../exporterhelper/_test_logs.ts";
import type { Logs } from "../pdata/logs.ts";
import { fanout } from "./fanout.ts";

/** A branch that refuses its first `failures` batches with `error`, and counts what it got. */
function branch(failures = 0, error: () => Error = () => new RetryableError("down")) {
  const b = {
    calls: 0,
    accepted: 0,
    consumer: {
      mutatesData: false,
      consume: (_logs: Logs) => {
        b.calls++;
        if (b.calls <= failures) return Promise.reject(error());
        b.accepted++;
        return Promise.resolve();
      },
    } satisfies LogsConsumer,
  };
  return b;
}

const waits: number[] = [];
const fakeSleep = (ms: number, signal?: AbortSignal): Promise<void> => {
  if (signal?.aborted) return Promise.reject(signal.reason);
  waits.push(ms);
  return Promise.resolve();
};

Deno.test("fanout: a refusing branch is retried alone; healthy branches get the batch once", async () => {
  const healthy = branch();
  const flaky = branch(3);
  const f = fanout([healthy.consumer, flaky.consumer], { sleep: fakeSleep });
  await f.consume(logsWithIds([1, 2]), {});
  assert.equal(healthy.calls, 1);
  assert.equal(flaky.calls, 4);
  assert.equal(flaky.accepted, 1);
});

Deno.test("fanout: when every branch refuses, the error goes straight back without retries", async () => {
  const a = branch(1);
  const b = branch(1, () => new RetryableError("later", { retryAfterMs: 7 }));
  const f = fanout([a.consumer, b.consumer], { sleep: fakeSleep });
  await assert.rejects(f.consume(logsWithIds([1]), {}), (e) => {
    assert.ok(e instanceof RetryableError);
    assert.match(e.message, /down; later/);
    return true;
  });
  assert.deepEqual([a.calls, b.calls], [1, 1]);
});

Deno.test("fanout: a permanent refusal is not retried and reaches the caller as permanent", async () => {
  const healthy = branch();
  const broken = branch(99, () => new PermanentError("bad data"));
  const flaky = branch(2);
  const f = fanout([healthy.consumer, broken.consumer, flaky.consumer], { sleep: fakeSleep });
  await assert.rejects(
    f.consume(logsWithIds([1]), {}),
    (e) => isPermanent(e) && /bad data/.test(`${e}`),
  );
  assert.deepEqual([healthy.calls, broken.calls, flaky.calls], [1, 1, 3]);
});

Deno.test("fanout: retrying stops at the caller's abort and after the retry time, with a retryable error", async () => {
  const healthy = branch();
  const down = branch(Infinity);
  const ac = new AbortController();
  const sleep = (ms: number, signal?: AbortSignal) => {
    ac.abort(new Error("shutdown"));
    return fakeSleep(ms, signal);
  };
  const f = fanout([healthy.consumer, down.consumer], { sleep });
  await assert.rejects(f.consume(logsWithIds([1]), { signal: ac.signal }), /down/);
  assert.equal(healthy.calls, 1);
  const timed = fanout([branch().consumer, branch(Infinity).consumer], {
    sleep: fakeSleep,
    retryMs: 0,
  });
  await assert.rejects(
    timed.consume(logsWithIds([1]), {}),
    (e) => e instanceof RetryableError && /Gave up retrying part of a fan-out/.test(e.message),
  );
});

Deno.test("fanout: waits at least a branch's Retry-After hint", async () => {
  waits.length = 0;
  const f = fanout([
    branch().consumer,
    branch(1, () => new RetryableError("busy", { retryAfterMs: 9_000 })).consumer,
  ], { sleep: fakeSleep });
  await f.consume(logsWithIds([1]), {});
  assert.deepEqual(waits, [9_000]);
});
