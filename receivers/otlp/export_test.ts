import assert from "node:assert/strict";
import {
  consumerFunc,
  PermanentError,
  ResourceExhaustedError,
  RetryableError,
} from "../../core/consumer.ts";
import { newLogs } from "../../core/pdata/logs.ts";
import { sampleLogs } from "../../core/pdata/testing.ts";
import { exportLogs } from "./export.ts";

const failing = (err: unknown) => consumerFunc(() => Promise.reject(err));

Deno.test("exportLogs: ok when the consumer resolves; empty requests skip the pipeline", async () => {
  let calls = 0;
  const next = consumerFunc(() => {
    calls++;
    return Promise.resolve();
  });
  assert.deepEqual(await exportLogs(next, sampleLogs(3), {}), { kind: "ok" });
  assert.deepEqual(await exportLogs(next, newLogs(), {}), { kind: "ok" });
  assert.equal(calls, 1);
});

Deno.test("exportLogs: classifies refusals as upstream's otlpreceiver", async () => {
  const logs = () => sampleLogs(1);
  assert.deepEqual(await exportLogs(failing(new Error("queue full")), logs(), {}), {
    kind: "retryable",
    message: "queue full",
  });
  assert.deepEqual(
    await exportLogs(failing(new RetryableError("busy", { retryAfterMs: 3000 })), logs(), {}),
    { kind: "retryable", message: "busy", retryAfterMs: 3000 },
  );
  assert.deepEqual(
    await exportLogs(
      failing(new ResourceExhaustedError("quota", { retryAfterMs: 1000 })),
      logs(),
      {},
    ),
    { kind: "exhausted", message: "quota", retryAfterMs: 1000 },
  );
  assert.deepEqual(await exportLogs(failing(new PermanentError("bad data")), logs(), {}), {
    kind: "permanent",
    message: "bad data",
  });
  const wrapped = new Error("outer", { cause: new ResourceExhaustedError("inner") });
  assert.equal((await exportLogs(failing(wrapped), logs(), {})).kind, "exhausted");
  assert.equal((await exportLogs(failing("a string"), logs(), {})).kind, "retryable");
});
