import assert from "node:assert/strict";
import { ComponentId, type CreateSettings, type Host } from "../component.ts";
import { type ClientInfo, isPermanent, PermanentError, RetryableError } from "../consumer.ts";
import type { Logs } from "../pdata/logs.ts";
import { decodeLogsRequest, logsRequestSize } from "../pdata/otlp_proto.ts";
import type { StorageExtension } from "../storage.ts";
import { nopLogger } from "../telemetry/logger.ts";
import { MetricsRegistry } from "../telemetry/metrics.ts";
import { idsOf, logsWithIds, range } from "./_test_logs.ts";
import {
  defaultQueueConfig,
  defaultRetryConfig,
  type QueueConfig,
  type RetryConfig,
} from "./config.ts";
import {
  type LogsSender,
  newLogsExporter,
  REQUEST_CODEC,
  type SendResult,
} from "./logs_exporter.ts";
import { QueueFullError } from "./queue.ts";
import { MemoryStorageClient } from "./testing.ts";

const LABELS = { exporter: "otlp_http/t" };

function settings(metrics = new MetricsRegistry()): CreateSettings {
  return {
    id: new ComponentId("otlp_http", "t"),
    kind: "exporter",
    logger: nopLogger(),
    metrics,
    componentLabels: LABELS,
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
}

function hostWith(data?: Map<string, Uint8Array>): Host & { clients: MemoryStorageClient[] } {
  const clients: MemoryStorageClient[] = [];
  const ext: StorageExtension = {
    start: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    getClient: (kind, id, name) => {
      assert.equal(kind, "exporter");
      assert.equal(id.toString(), "otlp_http/t");
      assert.equal(name, "logs");
      const c = new MemoryStorageClient(data);
      clients.push(c);
      return Promise.resolve(c);
    },
  };
  return {
    clients,
    getExtension: (id) => id === "file_storage" ? ext : undefined,
    reportFatalError: (e) => {
      throw e;
    },
  };
}

/** A sender whose outcome per call is scripted; records what it got. */
class FakeSender implements LogsSender {
  calls: { ids: number[]; client?: ClientInfo; encoded?: Uint8Array }[] = [];
  script: Array<(logs: Logs) => Promise<SendResult | void>> = [];
  fallback: (logs: Logs) => Promise<SendResult | void> = () => Promise.resolve();
  started = 0;
  stopped = 0;

  start(): Promise<void> {
    this.started++;
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.stopped++;
    return Promise.resolve();
  }

  send(
    logs: Logs,
    client: ClientInfo | undefined,
    signal: AbortSignal,
    encoded?: Uint8Array,
  ): Promise<SendResult | void> {
    this.calls.push({ ids: idsOf(logs), client, encoded });
    const step = this.script.shift() ?? this.fallback;
    return Promise.race([
      step(logs),
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    ]);
  }

  get sentIds(): number[] {
    return this.calls.flatMap((c) => c.ids);
  }
}

const fastRetry: RetryConfig = {
  ...defaultRetryConfig(),
  initialIntervalMs: 1,
  maxIntervalMs: 5,
  maxElapsedTimeMs: 0,
};

function queue(over: Partial<QueueConfig> = {}): QueueConfig {
  return { ...defaultQueueConfig(), ...over };
}

function never(): Promise<never> {
  return new Promise(() => {});
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

Deno.test("exporter helper: the in-memory queue acknowledges only after the backend did", async () => {
  const metrics = new MetricsRegistry();
  const sender = new FakeSender();
  let release!: () => void;
  sender.script.push(() => new Promise<void>((r) => release = r));
  const exp = newLogsExporter(settings(metrics), { retry: fastRetry, queue: queue() }, sender);
  await exp.start(hostWith());
  let acked = false;
  const p = exp.consume(logsWithIds([1, 2, 3]), {}).then(() => acked = true);
  await sleep(10);
  assert.equal(acked, false);
  assert.equal(metrics.value("otelcol_exporter_queue_size", { ...LABELS, data_type: "logs" }), 1);
  assert.equal(
    metrics.value("otelcol_exporter_queue_capacity", { ...LABELS, data_type: "logs" }),
    1000,
  );
  release();
  await p;
  assert.equal(metrics.value("otelcol_exporter_sent_log_records", LABELS), 3);
  assert.equal(metrics.value("otelcol_exporter_queue_size", { ...LABELS, data_type: "logs" }), 0);
  await exp.shutdown();
  assert.equal(sender.started, 1);
  assert.equal(sender.stopped, 1);
});

Deno.test("exporter helper: wait_for_result false acknowledges on enqueue, as upstream", async () => {
  const sender = new FakeSender();
  let release!: () => void;
  sender.script.push(() => new Promise<void>((r) => release = r));
  const exp = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({ waitForResult: false }),
  }, sender);
  await exp.start(hostWith());
  await exp.consume(logsWithIds([1]), {});
  await sleep(5);
  assert.deepEqual(sender.sentIds, [1]);
  release();
  await exp.shutdown();
});

Deno.test("exporter helper: retryable failures are retried until they succeed", async () => {
  const metrics = new MetricsRegistry();
  const sender = new FakeSender();
  sender.script.push(
    () => Promise.reject(new Error("connection refused")),
    () => Promise.reject(new RetryableError("503", { retryAfterMs: 5 })),
  );
  const exp = newLogsExporter(settings(metrics), { retry: fastRetry, queue: queue() }, sender);
  await exp.start(hostWith());
  await exp.consume(logsWithIds([4, 5]), {});
  assert.equal(sender.calls.length, 3);
  assert.equal(metrics.value("otelcol_exporter_sent_log_records", LABELS), 2);
  assert.equal(metrics.value("otelcol_exporter_send_failed_log_records", LABELS), 0);
  await exp.shutdown();
});

Deno.test("exporter helper: a permanent error is returned, counted, and does not block the queue", async () => {
  const metrics = new MetricsRegistry();
  const sender = new FakeSender();
  sender.script.push(() => Promise.reject(new PermanentError("HTTP 400: bad record")));
  const exp = newLogsExporter(settings(metrics), {
    retry: fastRetry,
    queue: queue({ numConsumers: 1 }),
  }, sender);
  await exp.start(hostWith());
  const first = exp.consume(logsWithIds([1, 2]), {});
  const second = exp.consume(logsWithIds([3]), {});
  await assert.rejects(first, (e) => isPermanent(e) && /bad record/.test((e as Error).message));
  await second;
  assert.deepEqual(sender.sentIds, [1, 2, 3]);
  assert.equal(metrics.value("otelcol_exporter_send_failed_log_records", LABELS), 2);
  assert.equal(metrics.value("otelcol_exporter_sent_log_records", LABELS), 1);
  await exp.shutdown();
});

Deno.test("exporter helper: retries exhausted give a retryable error to the producer", async () => {
  const sender = new FakeSender();
  sender.fallback = () => Promise.reject(new Error("down"));
  const exp = newLogsExporter(settings(), {
    retry: { ...fastRetry, initialIntervalMs: 5, maxIntervalMs: 5, maxElapsedTimeMs: 12 },
    queue: queue(),
  }, sender);
  await exp.start(hostWith());
  await assert.rejects(
    exp.consume(logsWithIds([1]), {}),
    (e) => e instanceof RetryableError && /No more retries left: down/.test(e.message),
  );
  await exp.shutdown();
});

Deno.test("exporter helper: a full queue refuses with a retryable error and counts it", async () => {
  const metrics = new MetricsRegistry();
  const sender = new FakeSender();
  sender.fallback = never;
  const exp = newLogsExporter(settings(metrics), {
    retry: fastRetry,
    queue: queue({ numConsumers: 1, queueSize: 2 }),
    drainTimeoutMs: 10,
  }, sender);
  await exp.start(hostWith());
  const held = [exp.consume(logsWithIds([1]), {}), exp.consume(logsWithIds([2]), {})];
  held.forEach((p) => p.catch(() => {}));
  await assert.rejects(exp.consume(logsWithIds([3, 4, 5]), {}), QueueFullError);
  assert.equal(metrics.value("otelcol_exporter_enqueue_failed_log_records", LABELS), 3);
  await exp.shutdown();
  // At shutdown the in-memory queue's unsent data is reported as failed, and producers told.
  await assert.rejects(held[0]!, RetryableError);
  await assert.rejects(held[1]!, RetryableError);
  assert.equal(metrics.value("otelcol_exporter_send_failed_log_records", LABELS), 2);
});

Deno.test("exporter helper: block_on_overflow makes producers wait instead of failing", async () => {
  const sender = new FakeSender();
  const gates: Array<() => void> = [];
  sender.fallback = () => new Promise<void>((r) => gates.push(r));
  const exp = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({ numConsumers: 1, queueSize: 1, blockOnOverflow: true }),
  }, sender);
  await exp.start(hostWith());
  const all = range(0, 5).map((i) => exp.consume(logsWithIds([i]), {}));
  for (let i = 0; i < 5; i++) {
    await sleep(5);
    assert.equal(gates.length, i + 1, "one request at a time");
    gates[i]!();
  }
  await Promise.all(all);
  assert.deepEqual(sender.sentIds, range(0, 5));
  await exp.shutdown();
});

Deno.test("exporter helper: without a queue, consume sends directly and returns the outcome", async () => {
  const sender = new FakeSender();
  sender.script.push(() => Promise.reject(new PermanentError("413 too large")));
  const exp = newLogsExporter(
    settings(),
    { retry: fastRetry, queue: queue({ enabled: false }) },
    sender,
  );
  await exp.start(hostWith());
  await assert.rejects(exp.consume(logsWithIds([1]), {}), /413 too large/);
  await exp.consume(logsWithIds([2]), {});
  assert.deepEqual(sender.sentIds, [1, 2]);
  await exp.shutdown();
});

Deno.test("exporter helper: partial success counts the rejected records as failed", async () => {
  const metrics = new MetricsRegistry();
  const sender = new FakeSender();
  sender.script.push(() => Promise.resolve({ rejected: 2 }));
  const exp = newLogsExporter(settings(metrics), { retry: fastRetry, queue: queue() }, sender);
  await exp.start(hostWith());
  await exp.consume(logsWithIds([1, 2, 3, 4, 5]), {});
  assert.equal(metrics.value("otelcol_exporter_sent_log_records", LABELS), 3);
  assert.equal(metrics.value("otelcol_exporter_send_failed_log_records", LABELS), 2);
  await exp.shutdown();
});

Deno.test("exporter helper: client metadata travels through the queue to the sender", async () => {
  const sender = new FakeSender();
  const exp = newLogsExporter(settings(), { retry: fastRetry, queue: queue() }, sender);
  await exp.start(hostWith());
  const metadata = new Map([["x-scope-orgid", ["tenant-a"]]]);
  await exp.consume(logsWithIds([1]), { client: { metadata } });
  assert.deepEqual(sender.calls[0]!.client?.metadata?.get("x-scope-orgid"), ["tenant-a"]);
  await exp.shutdown();
});

Deno.test("exporter helper: refuses data before start and after shutdown (retryable)", async () => {
  const exp = newLogsExporter(settings(), { retry: fastRetry, queue: queue() }, new FakeSender());
  await assert.rejects(
    exp.consume(logsWithIds([1]), {}),
    (e) => e instanceof RetryableError && /not started/.test(e.message),
  );
  await exp.start(hostWith());
  await exp.shutdown();
  await assert.rejects(exp.consume(logsWithIds([1]), {}), RetryableError);
  await exp.shutdown(); // idempotent
});

Deno.test("exporter helper: shutdown drains the in-memory queue while the backend answers", async () => {
  const sender = new FakeSender();
  sender.fallback = () => sleep(5);
  const exp = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({ numConsumers: 2, waitForResult: false }),
  }, sender);
  await exp.start(hostWith());
  for (let i = 0; i < 20; i++) await exp.consume(logsWithIds([i]), {});
  await exp.shutdown();
  assert.deepEqual(sender.sentIds.sort((a, b) => a - b), range(0, 20));
});

Deno.test("exporter helper: the persistent queue acknowledges once on disk, and keeps data over a restart", async () => {
  const data = new Map<string, Uint8Array>();
  const down = new FakeSender();
  down.fallback = () => Promise.reject(new Error("backend down"));
  const first = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({ storage: "file_storage", waitForResult: false, numConsumers: 2 }),
    drainTimeoutMs: 20,
  }, down);
  const host1 = hostWith(data);
  await first.start(host1);
  for (let i = 0; i < 10; i++) await first.consume(logsWithIds([i * 2, i * 2 + 1]), {});
  await first.shutdown();
  assert.equal(host1.clients[0]!.closed, true);
  assert.ok(down.calls.length > 0, "it tried");

  const up = new FakeSender();
  const metrics = new MetricsRegistry();
  const second = newLogsExporter(settings(metrics), {
    retry: fastRetry,
    queue: queue({ storage: "file_storage", waitForResult: false, numConsumers: 1 }),
  }, up);
  await second.start(hostWith(data));
  for (let i = 0; i < 100 && up.sentIds.length < 20; i++) await sleep(5);
  await second.shutdown();
  assert.deepEqual(up.sentIds, range(0, 20), "every record, in order, after the restart");
  assert.equal(metrics.value("otelcol_exporter_sent_log_records", LABELS), 20);
  assert.deepEqual([...data.keys()], ["meta"], "nothing left on disk");
});

Deno.test("exporter helper: at shutdown a persistent queue stops at the first failure and keeps the rest on disk", async () => {
  const data = new Map<string, Uint8Array>();
  const down = new FakeSender();
  down.fallback = () => Promise.reject(new RetryableError("backend down"));
  const first = newLogsExporter(settings(), {
    retry: fastRetry, // retries forever, every few ms
    queue: queue({ storage: "file_storage", waitForResult: false, numConsumers: 2 }),
    drainTimeoutMs: 60_000,
  }, down);
  await first.start(hostWith(data));
  for (let i = 0; i < 10; i++) await first.consume(logsWithIds([i]), {});
  await sleep(20); // both consumers are retrying now
  const before = down.calls.length;
  await first.shutdown();
  // Without the early stop the drain would retry for up to drainTimeoutMs: hundreds of calls.
  assert.ok(
    down.calls.length - before <= 10,
    `${down.calls.length - before} attempts after shutdown began`,
  );

  const up = new FakeSender();
  const second = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({ storage: "file_storage", waitForResult: false, numConsumers: 1 }),
  }, up);
  await second.start(hostWith(data));
  for (let i = 0; i < 100 && up.sentIds.length < 10; i++) await sleep(5);
  await second.shutdown();
  assert.deepEqual(up.sentIds, range(0, 10), "everything was kept for the next start");
});

Deno.test("exporter helper: at shutdown an in-memory queue still drains while the backend answers after a failure", async () => {
  const sender = new FakeSender();
  sender.script = [() => Promise.reject(new RetryableError("one hiccup"))];
  const exporter = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({ waitForResult: false, numConsumers: 1 }),
  }, sender);
  await exporter.start(hostWith());
  for (let i = 0; i < 5; i++) await exporter.consume(logsWithIds([i]), {});
  await exporter.shutdown();
  assert.deepEqual(
    sender.sentIds,
    [0, 0, 1, 2, 3, 4],
    "the failed attempt, then each request once",
  );
});

Deno.test("exporter helper: the persistent queue drops permanently failed requests from disk", async () => {
  const data = new Map<string, Uint8Array>();
  const sender = new FakeSender();
  sender.script.push(() => Promise.reject(new PermanentError("400")));
  const exp = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({ storage: "file_storage", waitForResult: false, numConsumers: 1 }),
  }, sender);
  await exp.start(hostWith(data));
  await exp.consume(logsWithIds([1]), {});
  await exp.consume(logsWithIds([2]), {});
  for (let i = 0; i < 100 && sender.calls.length < 2; i++) await sleep(2);
  await exp.shutdown();
  assert.deepEqual(sender.sentIds, [1, 2]);
  assert.deepEqual([...data.keys()], ["meta"]);
});

Deno.test("exporter helper: a persistent queue on a missing extension fails start, naming it", async () => {
  const exp = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({ storage: "file_storage/missing", waitForResult: false }),
  }, new FakeSender());
  await assert.rejects(
    exp.start(hostWith()),
    /Storage extension "file_storage\/missing" is not running/,
  );
});

Deno.test("exporter helper: sending_queue::batch merges small requests up to min_size", async () => {
  const sender = new FakeSender();
  const exp = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({
      sizer: "items",
      queueSize: 1000,
      batch: { sizer: "items", minSize: 10, maxSize: 0, flushTimeoutMs: 10_000, metadataKeys: [] },
    }),
  }, sender);
  await exp.start(hostWith());
  await Promise.all(range(0, 5).map((i) => exp.consume(logsWithIds([i * 2, i * 2 + 1]), {})));
  assert.equal(sender.calls.length, 1);
  assert.deepEqual(sender.sentIds.sort((a, b) => a - b), range(0, 10));
  await exp.shutdown();
});

Deno.test("exporter helper: sending_queue::batch by bytes ships on size or on the flush timeout", async () => {
  const sender = new FakeSender();
  const exp = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({
      storage: "file_storage",
      waitForResult: false,
      batch: { sizer: "bytes", minSize: 5000, maxSize: 0, flushTimeoutMs: 40, metadataKeys: [] },
    }),
  }, sender);
  await exp.start(hostWith(new Map()));
  for (let i = 0; i < 30; i++) await exp.consume(logsWithIds([i], "svc", 200), {});
  await sleep(5);
  assert.ok(sender.calls.length >= 1, "size trigger fired");
  await exp.consume(logsWithIds([99]), {});
  await sleep(80);
  assert.ok(sender.sentIds.includes(99), "timeout trigger fired");
  await exp.shutdown();
  assert.deepEqual(sender.sentIds.sort((a, b) => a - b), [...range(0, 30), 99]);
});

Deno.test("exporter helper: a persistent queue by bytes stores each request once encoded and batches by those sizes", async () => {
  const metrics = new MetricsRegistry();
  const sender = new FakeSender();
  let release!: () => void;
  sender.script.push(() => new Promise<void>((r) => release = r));
  const one = logsRequestSize(logsWithIds([0], "svc", 200));
  const data = new Map<string, Uint8Array>();
  const exp = newLogsExporter(settings(metrics), {
    retry: fastRetry,
    queue: queue({
      storage: "file_storage",
      sizer: "bytes",
      queueSize: 1_000_000,
      waitForResult: false,
      batch: {
        sizer: "bytes",
        minSize: 3 * one,
        maxSize: 0,
        flushTimeoutMs: 60_000,
        metadataKeys: [],
      },
    }),
  }, sender);
  await exp.start(hostWith(data));
  for (let i = 0; i < 4; i++) await exp.consume(logsWithIds([i], "svc", 200), {});
  const stored = [...data].filter(([k]) => k !== "meta").map(([, v]) => v);
  assert.equal(stored.length, 4);
  // Header (10 bytes), then exactly what REQUEST_CODEC writes for the request.
  assert.deepEqual(
    stored[0]!.subarray(10),
    REQUEST_CODEC.encode({ logs: logsWithIds([0], "svc", 200) }),
  );
  assert.equal(
    metrics.value("otelcol_exporter_queue_size", { ...LABELS, data_type: "logs" }),
    4 * one,
  );
  await sleep(10);
  // The batch reached min_size with the third request, measured with the queue's sizes.
  assert.deepEqual(sender.calls.map((c) => c.ids), [[0, 1, 2]]);
  release();
  await exp.shutdown();
  assert.deepEqual(sender.sentIds, [0, 1, 2, 3]);
});

Deno.test("REQUEST_CODEC round-trips logs and client metadata, and refuses garbage", () => {
  const req = { logs: logsWithIds([1, 2]), metadata: new Map([["k", ["a", "b"]]]) };
  const back = REQUEST_CODEC.decode(REQUEST_CODEC.encode(req));
  assert.deepEqual(idsOf(back.logs), [1, 2]);
  assert.deepEqual([...back.metadata!], [["k", ["a", "b"]]]);
  assert.throws(() => REQUEST_CODEC.decode(new Uint8Array([0, 0, 0, 99, 1])));
  assert.throws(() => REQUEST_CODEC.decode(new Uint8Array([0, 0])));
});

Deno.test("exporter helper: in-flight requests and batch sizes use upstream's metric names", async () => {
  for (const level of ["normal", "detailed"] as const) {
    const metrics = new MetricsRegistry(level);
    const sender = new FakeSender();
    const gates: (() => void)[] = [];
    sender.fallback = () => new Promise<void>((r) => gates.push(r));
    const exp = newLogsExporter(settings(metrics), {
      retry: fastRetry,
      queue: queue({
        batch: {
          sizer: "items",
          minSize: 10,
          maxSize: 10,
          flushTimeoutMs: 10_000,
          metadataKeys: [],
        },
      }),
    }, sender);
    await exp.start(hostWith());
    const inFlight = () => metrics.value("otelcol_exporter_in_flight_requests", LABELS);
    assert.equal(inFlight(), 0);
    const done = exp.consume(logsWithIds(range(0, 25)), {});
    while (gates.length < 2) await sleep(1); // 10 + 10 go at once, 5 wait for more
    assert.equal(inFlight(), 2);
    for (const open of gates.splice(0)) open();
    const stopped = exp.shutdown(); // flushes the last 5
    while (gates.length < 1) await sleep(1);
    gates.shift()!();
    await stopped;
    await done;
    assert.equal(inFlight(), 0);
    const sizes = metrics.histogramValue("otelcol_exporter_queue_batch_send_size", LABELS);
    assert.equal(sizes?.count, 3, level);
    assert.equal(sizes?.sum, 25);
    const bytes = metrics.histogramValue("otelcol_exporter_queue_batch_send_size_bytes", LABELS);
    if (level === "normal") assert.equal(bytes, undefined);
    else {
      const sent = sender.calls.map((c) => logsRequestSize(logsWithIds(c.ids)));
      assert.deepEqual(sender.calls.map((c) => c.ids.length), [10, 10, 5]);
      assert.equal(bytes?.sum, sent[0]! + sent[1]! + sent[2]!);
    }
  }
});

Deno.test("exporter helper: sending_queue::batch reads from the queue only up to its byte budget", async () => {
  const sender = new FakeSender();
  const gates: Array<() => void> = [];
  sender.fallback = () => new Promise<void>((r) => gates.push(r));
  const one = logsRequestSize(logsWithIds([0], "svc", 1000));
  const exp = newLogsExporter(settings(), {
    retry: fastRetry,
    // Every request is a batch of its own; 10 could be in flight, the budget allows 3.
    queue: queue({
      numConsumers: 10,
      waitForResult: false,
      batch: { sizer: "items", minSize: 1, maxSize: 0, flushTimeoutMs: 10_000, metadataKeys: [] },
    }),
    readerBudgetBytes: Math.floor(2.5 * one),
  }, sender);
  await exp.start(hostWith());
  for (let i = 0; i < 8; i++) await exp.consume(logsWithIds([i], "svc", 1000), {});
  await sleep(20);
  assert.equal(sender.calls.length, 3, "reading stops once the budget is held");
  while (sender.calls.length < 8 || gates.length > 0) {
    for (const g of gates.splice(0)) g();
    await sleep(1);
  }
  await exp.shutdown();
  assert.deepEqual(sender.sentIds.sort((a, b) => a - b), range(0, 8));
});

Deno.test("exporter helper: at the partition limit, acknowledged requests wait for a free partition instead of being dropped", async () => {
  const sender = new FakeSender();
  const data = new Map<string, Uint8Array>();
  const exp = newLogsExporter(settings(), {
    retry: fastRetry,
    queue: queue({
      storage: "file_storage",
      waitForResult: false,
      queueSize: 2000,
      batch: {
        sizer: "items",
        minSize: 1000,
        maxSize: 0,
        flushTimeoutMs: 60_000,
        metadataKeys: ["tenant"],
      },
    }),
  }, sender);
  const host = hostWith(data);
  await exp.start(host);
  // 1,001 tenants: one more than the exporter's partition limit, none of them due to send.
  const tenants = 1001;
  for (let i = 0; i < tenants; i++) {
    const client = { metadata: new Map([["tenant", [`t${i}`]]]) };
    await exp.consume(logsWithIds([i]), { client });
  }
  for (let i = 0; i < 400 && sender.calls.length < 1000; i++) await sleep(5);
  await exp.shutdown();
  assert.deepEqual(sender.sentIds.sort((a, b) => a - b), range(0, tenants));
  assert.deepEqual(
    [...data.keys()].filter((k) => k !== "meta"),
    [],
    "every request sent, none left",
  );
});

Deno.test("exporter helper: an unreadable request in the persistent queue is counted as failed", async () => {
  const data = new Map<string, Uint8Array>();
  const q = queue({
    storage: "file_storage",
    waitForResult: false,
    sizer: "items",
    numConsumers: 1,
  });
  const stuck = new FakeSender();
  stuck.fallback = never;
  const first = newLogsExporter(
    settings(),
    { retry: fastRetry, queue: q, drainTimeoutMs: 1 },
    stuck,
  );
  await first.start(hostWith(data));
  await first.consume(logsWithIds([1, 2, 3]), {});
  await first.consume(logsWithIds([4]), {});
  await first.shutdown();
  const key = [...data.keys()].filter((k) => k !== "meta").sort()[0]!;
  const item = data.get(key)!;
  item.fill(0xff, 10); // keep the header (size 3), break the request
  const metrics = new MetricsRegistry();
  const sender = new FakeSender();
  const second = newLogsExporter(settings(metrics), { retry: fastRetry, queue: q }, sender);
  await second.start(hostWith(data));
  for (let i = 0; i < 100 && sender.calls.length < 1; i++) await sleep(2);
  await second.shutdown();
  assert.deepEqual(sender.sentIds, [4]);
  assert.equal(metrics.value("otelcol_exporter_send_failed_log_records", LABELS), 3);
});

Deno.test("exporter helper: a request read back from the persistent queue reaches the sender with its stored bytes", async () => {
  const data = new Map<string, Uint8Array>();
  const q = queue({ storage: "file_storage", waitForResult: false, numConsumers: 1 });
  const stuck = new FakeSender();
  stuck.fallback = never;
  const first = newLogsExporter(
    settings(),
    { retry: fastRetry, queue: q, drainTimeoutMs: 1 },
    stuck,
  );
  await first.start(hostWith(data));
  await first.consume(logsWithIds([7, 8]), {});
  await first.shutdown();
  const sender = new FakeSender();
  const second = newLogsExporter(settings(), { retry: fastRetry, queue: q }, sender);
  await second.start(hostWith(data));
  for (let i = 0; i < 100 && sender.calls.length < 1; i++) await sleep(2);
  await second.shutdown();
  assert.deepEqual(sender.sentIds, [7, 8]);
  const encoded = sender.calls.at(-1)!.encoded;
  assert.ok(encoded !== undefined, "the stored protobuf request is handed on");
  assert.deepEqual(idsOf(decodeLogsRequest(encoded)), [7, 8]);
});
