import assert from "node:assert/strict";
import { ComponentId, type CreateSettings } from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import {
  type ConsumeContext,
  isPermanent,
  PermanentError,
  RetryableError,
} from "../../core/consumer.ts";
import { idsOf, logsWithIds, range } from "../../core/exporterhelper/_test_logs.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { type MetricsLevel, MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { logsRequestSize } from "../../core/pdata/otlp_proto.ts";
import { BATCH_METRICS } from "./batch_processor.ts";
import { type BatchConfig, defaultBatchConfig } from "./config.ts";
import { batchFactory } from "./mod.ts";

const LABELS = { processor: "batch" };

function parse(plain: unknown): { cfg: BatchConfig; text: string } {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "processors::batch", issues);
  const cfg = batchFactory.parseConfig(r);
  r.done();
  return { cfg, text: issues.list.map((i) => `${i.path}: ${i.message}`).join("\n") };
}

interface Downstream {
  batches: { ids: number[]; ctx: ConsumeContext }[];
  gates: Array<(err?: unknown) => void>;
  /** When true, each batch waits for `gates[i]()` before resolving. */
  hold: boolean;
}

function setup(over: Partial<BatchConfig>, level: MetricsLevel = "normal") {
  const metrics = new MetricsRegistry(level);
  const settings: CreateSettings = {
    id: new ComponentId("batch"),
    kind: "processor",
    logger: nopLogger(),
    metrics,
    componentLabels: LABELS,
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
  const down: Downstream = { batches: [], gates: [], hold: false };
  const next = {
    mutatesData: false,
    consume: (logs: Logs, ctx: ConsumeContext): Promise<void> => {
      down.batches.push({ ids: idsOf(logs), ctx });
      if (!down.hold) return Promise.resolve();
      return new Promise<void>((resolve, reject) =>
        down.gates.push((err) => err === undefined ? resolve() : reject(err))
      );
    },
  };
  const proc = batchFactory.create(settings, { ...defaultBatchConfig(), ...over }, next);
  return { proc, down, metrics };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

Deno.test("batch config: upstream's defaults and keys", () => {
  const d = parse({});
  assert.equal(d.text, "");
  assert.deepEqual(d.cfg, {
    sendBatchSize: 8192,
    timeoutMs: 200,
    sendBatchMaxSize: 0,
    metadataKeys: [],
    metadataCardinalityLimit: 1000,
  });
  const s = parse({
    send_batch_size: 100,
    timeout: "1s",
    send_batch_max_size: 200,
    metadata_keys: ["X-Scope-OrgID"],
    metadata_cardinality_limit: 10,
  });
  assert.equal(s.text, "");
  assert.deepEqual(s.cfg, {
    sendBatchSize: 100,
    timeoutMs: 1000,
    sendBatchMaxSize: 200,
    metadataKeys: ["X-Scope-OrgID"],
    metadataCardinalityLimit: 10,
  });
  assert.equal(batchFactory.type, "batch");
});

Deno.test("batch config: validation as upstream, and no invented byte-size key", () => {
  assert.match(
    parse({ send_batch_size: 100, send_batch_max_size: 50 }).text,
    /send_batch_max_size: Must be greater than or equal to send_batch_size \(100\)/,
  );
  assert.match(parse({ metadata_keys: ["a", "A"] }).text, /metadata_keys: Duplicate entry "a"/);
  assert.match(parse({ timeout: "-1s" }).text, /timeout: Must be at least 0/);
  assert.match(parse({ send_batch_max_bytes: 1000 }).text, /Unknown key "send_batch_max_bytes"/);
});

Deno.test("batch: a full batch goes out at once; producers resolve only after downstream did", async () => {
  const { proc, down, metrics } = setup({ sendBatchSize: 6, timeoutMs: 10_000 });
  down.hold = true;
  let resolved = 0;
  const a = proc.consume(logsWithIds([1, 2, 3]), {}).then(() => resolved++);
  const b = proc.consume(logsWithIds([4, 5, 6]), {}).then(() => resolved++);
  await sleep(5);
  assert.deepEqual(down.batches.map((x) => x.ids), [[1, 2, 3, 4, 5, 6]]);
  assert.equal(
    resolved,
    0,
    "backpressure: not acknowledged before the downstream consume resolved",
  );
  down.gates[0]!();
  await Promise.all([a, b]);
  assert.equal(resolved, 2);
  assert.equal(metrics.value(BATCH_METRICS.sizeTrigger, LABELS), 1);
  await proc.shutdown();
});

Deno.test("batch: the timeout sends a partial batch", async () => {
  const { proc, down, metrics } = setup({ sendBatchSize: 1000, timeoutMs: 30 });
  await proc.consume(logsWithIds([1, 2]), {});
  assert.deepEqual(down.batches.map((x) => x.ids), [[1, 2]]);
  assert.equal(metrics.value(BATCH_METRICS.timeoutTrigger, LABELS), 1);
  assert.equal(metrics.value(BATCH_METRICS.sizeTrigger, LABELS), 0);
  await proc.shutdown();
});

Deno.test("batch: send_batch_max_size splits, and a producer waits for all its parts", async () => {
  const { proc, down } = setup({ sendBatchSize: 4, sendBatchMaxSize: 4, timeoutMs: 20 });
  await proc.consume(logsWithIds(range(0, 10)), {});
  assert.deepEqual(down.batches.map((x) => x.ids), [range(0, 4), range(4, 8), [8, 9]]);
  await proc.shutdown();
});

Deno.test("batch: never changes the data it was given, so it declares mutatesData false", async () => {
  const { proc, down } = setup({ sendBatchSize: 8, sendBatchMaxSize: 8, timeoutMs: 20 });
  assert.equal(proc.mutatesData, false);
  const a = logsWithIds(range(0, 6), "a");
  const b = logsWithIds(range(6, 13), "b");
  const before = structuredClone([a, b]);
  await Promise.all([proc.consume(a, {}), proc.consume(b, {})]);
  assert.deepEqual([a, b], before);
  // `a` goes whole into the first batch, `b` is split across both.
  assert.deepEqual(down.batches.map((x) => x.ids), [range(0, 8), range(8, 13)]);
  await proc.shutdown();
});

Deno.test("batch: a downstream error reaches every producer of that batch", async () => {
  const { proc, down } = setup({ sendBatchSize: 4, timeoutMs: 10_000 });
  down.hold = true;
  const a = proc.consume(logsWithIds([1, 2]), {});
  const b = proc.consume(logsWithIds([3, 4]), {});
  await sleep(1);
  down.gates[0]!(new RetryableError("sending queue is full"));
  await assert.rejects(a, /sending queue is full/);
  await assert.rejects(b, /sending queue is full/);
  const c = proc.consume(logsWithIds([5, 6, 7, 8]), {});
  await sleep(1);
  down.gates[1]!(new PermanentError("400"));
  await assert.rejects(c, (e) => isPermanent(e));
  await proc.shutdown();
});

Deno.test("batch: metadata_keys batch per tenant and pass only those keys on", async () => {
  const { proc, down, metrics } = setup({
    sendBatchSize: 4,
    timeoutMs: 10_000,
    metadataKeys: ["X-Scope-OrgID"],
  });
  const ctx = (t: string): ConsumeContext => ({
    client: {
      addr: "10.0.0.1",
      metadata: new Map([["x-scope-orgid", [t]], ["authorization", ["x"]]]),
    },
  });
  await Promise.all([
    proc.consume(logsWithIds([1, 2]), ctx("a")),
    proc.consume(logsWithIds([10, 11]), ctx("b")),
    proc.consume(logsWithIds([3, 4]), ctx("a")),
    proc.consume(logsWithIds([12, 13]), ctx("b")),
  ]);
  const byTenant = Object.fromEntries(
    down.batches.map((b) => [b.ctx.client?.metadata?.get("x-scope-orgid")?.[0], b.ids]),
  );
  assert.deepEqual(byTenant, { a: [1, 2, 3, 4], b: [10, 11, 12, 13] });
  for (const b of down.batches) {
    assert.deepEqual([...b.ctx.client!.metadata!.keys()], ["x-scope-orgid"]);
    assert.equal(
      b.ctx.client!.addr,
      undefined,
      "the peer address is not carried past batch, as upstream",
    );
  }
  assert.equal(metrics.value(BATCH_METRICS.cardinality, LABELS), 2);
  await proc.shutdown();
});

Deno.test("batch: over metadata_cardinality_limit data is refused permanently", async () => {
  const { proc } = setup({
    sendBatchSize: 1,
    timeoutMs: 10,
    metadataKeys: ["t"],
    metadataCardinalityLimit: 1,
  });
  await proc.consume(logsWithIds([1]), { client: { metadata: new Map([["t", ["a"]]]) } });
  await assert.rejects(
    proc.consume(logsWithIds([2]), { client: { metadata: new Map([["t", ["b"]]]) } }),
    (e) => isPermanent(e) && /metadata_cardinality_limit/.test((e as Error).message),
  );
  await proc.shutdown();
});

Deno.test("batch: timeout 0 sends every request at once", async () => {
  const { proc, down } = setup({ sendBatchSize: 8192, timeoutMs: 0 });
  await proc.consume(logsWithIds([1]), {});
  await proc.consume(logsWithIds([2]), {});
  assert.deepEqual(down.batches.map((b) => b.ids), [[1], [2]]);
  await proc.shutdown();
});

Deno.test("batch: shutdown flushes what is pending and waits for it; later data is refused", async () => {
  const { proc, down } = setup({ sendBatchSize: 1000, timeoutMs: 60_000 });
  const p = proc.consume(logsWithIds([1, 2, 3]), {});
  await proc.shutdown();
  await p;
  assert.deepEqual(down.batches.map((b) => b.ids), [[1, 2, 3]]);
  await assert.rejects(proc.consume(logsWithIds([4]), {}), RetryableError);
});

Deno.test("batch: many concurrent producers lose, duplicate and reorder nothing", async () => {
  const { proc, down } = setup({ sendBatchSize: 50, sendBatchMaxSize: 64, timeoutMs: 5 });
  let next = 0;
  const producers = range(0, 8).map(async () => {
    for (let i = 0; i < 40; i++) {
      const n = 1 + (i * 7) % 13;
      const ids = range(next, next + n);
      next += n;
      await proc.consume(logsWithIds(ids), {});
    }
  });
  await Promise.all(producers);
  await proc.shutdown();
  // Ids were taken in the order the consume calls arrived: they leave in that order.
  assert.deepEqual(down.batches.flatMap((b) => b.ids), range(0, next));
  for (const b of down.batches) assert.ok(b.ids.length <= 64);
});

Deno.test("batch: send sizes go into upstream's histograms; bytes only at the detailed level", async () => {
  for (const level of ["normal", "detailed"] as const) {
    const { proc, metrics } = setup({ sendBatchSize: 100, sendBatchMaxSize: 100 }, level);
    const consumed = proc.consume(logsWithIds(range(0, 250)), {}); // 100 + 100 by size…
    await proc.shutdown(); // …and the last 50 at shutdown
    await consumed;
    const items = metrics.histogramValue(BATCH_METRICS.sendSize, LABELS);
    assert.equal(items?.count, 3, level);
    assert.equal(items?.sum, 250);
    assert.deepEqual(items?.buckets.find(([le]) => le === 50), [50, 1], "one batch of 50");
    assert.deepEqual(items?.buckets.find(([le]) => le === 100), [100, 3], "two of 100");
    const bytes = metrics.histogramValue(BATCH_METRICS.sendSizeBytes, LABELS);
    if (level === "normal") {
      assert.equal(bytes, undefined);
    } else {
      const whole = logsRequestSize(logsWithIds(range(0, 100)));
      assert.equal(bytes?.count, 3);
      assert.ok(bytes!.sum > 2 * whole && bytes!.sum < 3 * whole, `${bytes!.sum} bytes`);
    }
  }
});
