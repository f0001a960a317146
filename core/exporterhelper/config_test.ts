import assert from "node:assert/strict";
import { fromPlain } from "../config/node.ts";
import { ConfigIssues, ConfigReader } from "../config/reader.ts";
import {
  defaultQueueConfig,
  defaultRetryConfig,
  parseQueueConfig,
  parseRetryConfig,
} from "./config.ts";

function reader(plain: unknown): { r: ConfigReader; issues: ConfigIssues } {
  const issues = new ConfigIssues();
  return { r: new ConfigReader(fromPlain(plain), "exporters::otlp_http::x", issues), issues };
}

function messages(issues: ConfigIssues): string[] {
  return issues.list.map((i) => `${i.severity} ${i.path}: ${i.message}`);
}

Deno.test("parseRetryConfig() gives upstream's defaults for an empty section", () => {
  const { r, issues } = reader({});
  assert.deepEqual(parseRetryConfig(r), defaultRetryConfig());
  assert.deepEqual(defaultRetryConfig(), {
    enabled: true,
    initialIntervalMs: 5000,
    randomizationFactor: 0.5,
    multiplier: 1.5,
    maxIntervalMs: 30000,
    maxElapsedTimeMs: 300000,
  });
  r.done();
  assert.deepEqual(issues.list, []);
});

Deno.test("parseRetryConfig() reads every key and accepts max_elapsed_time 0", () => {
  const { r, issues } = reader({
    enabled: true,
    initial_interval: "100ms",
    randomization_factor: 0,
    multiplier: 2,
    max_interval: "1s",
    max_elapsed_time: 0,
  });
  assert.deepEqual(parseRetryConfig(r), {
    enabled: true,
    initialIntervalMs: 100,
    randomizationFactor: 0,
    multiplier: 2,
    maxIntervalMs: 1000,
    maxElapsedTimeMs: 0,
  });
  r.done();
  assert.deepEqual(issues.list, []);
});

Deno.test("parseRetryConfig() rejects max_elapsed_time below the intervals and a bad factor", () => {
  const { r, issues } = reader({
    initial_interval: "10s",
    max_interval: "1m",
    max_elapsed_time: "5s",
    randomization_factor: 1.5,
  });
  parseRetryConfig(r);
  const m = messages(issues);
  assert.ok(m.some((s) => s.includes("randomization_factor: Must be at most 1")), m.join("\n"));
  assert.ok(m.some((s) => s.includes("max_elapsed_time: Must not be less than initial_interval")));
  assert.ok(m.some((s) => s.includes("max_elapsed_time: Must not be less than max_interval")));
});

Deno.test("parseQueueConfig() defaults: in memory, 10 consumers, 1000 requests, waits for the result", () => {
  const { r, issues } = reader({});
  assert.deepEqual(parseQueueConfig(r), defaultQueueConfig());
  const d = defaultQueueConfig();
  assert.equal(d.numConsumers, 10);
  assert.equal(d.queueSize, 1000);
  assert.equal(d.sizer, "requests");
  assert.equal(d.blockOnOverflow, false);
  assert.equal(d.waitForResult, true);
  assert.equal(d.batch, undefined);
  r.done();
  assert.deepEqual(issues.list, []);
});

Deno.test("parseQueueConfig() with storage acknowledges on enqueue and refuses wait_for_result", () => {
  const ok = reader({ storage: "file_storage/q", sizer: "items", queue_size: 5000 });
  const cfg = parseQueueConfig(ok.r);
  assert.equal(cfg.storage, "file_storage/q");
  assert.equal(cfg.waitForResult, false);
  assert.equal(cfg.sizer, "items");
  assert.deepEqual(ok.issues.list, []);

  const bad = reader({ storage: "file_storage", wait_for_result: true });
  parseQueueConfig(bad.r);
  assert.match(
    messages(bad.issues).join("\n"),
    /wait_for_result: Not supported with a persistent queue/,
  );
});

Deno.test("parseQueueConfig() understands the older `blocking` with a warning, not with both", () => {
  const old = reader({ blocking: true });
  assert.equal(parseQueueConfig(old.r).blockOnOverflow, true);
  assert.equal(old.issues.warnings.length, 1);
  assert.match(old.issues.warnings[0]!.message, /rename "blocking" to "block_on_overflow"/);

  const both = reader({ blocking: true, block_on_overflow: false });
  parseQueueConfig(both.r);
  assert.equal(both.issues.errors.length, 1);
});

Deno.test("parseQueueConfig() rejects bad sizes and an unknown sizer, naming the key", () => {
  const { r, issues } = reader({ num_consumers: 0, queue_size: -1, sizer: "bites" });
  parseQueueConfig(r);
  const m = messages(issues).join("\n");
  assert.match(m, /num_consumers: Must be at least 1/);
  assert.match(m, /queue_size: Must be at least 1/);
  assert.match(m, /sizer: Invalid value "bites".*did you mean "bytes"/);
});

Deno.test("parseQueueConfig() batch: {} gives upstream's batch defaults", () => {
  const { r, issues } = reader({ batch: {}, queue_size: 10000, sizer: "items" });
  const cfg = parseQueueConfig(r);
  assert.deepEqual(cfg.batch, {
    flushTimeoutMs: 200,
    sizer: "items",
    minSize: 8192,
    maxSize: 0,
    metadataKeys: [],
  });
  r.done();
  assert.deepEqual(issues.list, []);
});

Deno.test("parseQueueConfig() batch by bytes for an audit agent: 50 MB or 60 s", () => {
  const { r, issues } = reader({
    sizer: "requests",
    queue_size: 10000,
    batch: { sizer: "bytes", min_size: 50_000_000, max_size: 60_000_000, flush_timeout: "60s" },
  });
  const cfg = parseQueueConfig(r);
  assert.deepEqual(cfg.batch, {
    flushTimeoutMs: 60000,
    sizer: "bytes",
    minSize: 50_000_000,
    maxSize: 60_000_000,
    metadataKeys: [],
  });
  r.done();
  assert.deepEqual(issues.list, []);
});

Deno.test("parseQueueConfig() batch inherits the queue sizer, and refuses an inherited `requests`", () => {
  const inherit = reader({ sizer: "bytes", queue_size: 100_000_000, batch: { min_size: 1000 } });
  assert.equal(parseQueueConfig(inherit.r).batch?.sizer, "bytes");
  assert.deepEqual(inherit.issues.list, []);

  const bad = reader({ sizer: "requests", batch: {} });
  parseQueueConfig(bad.r);
  assert.match(
    messages(bad.issues).join("\n"),
    /batches can only be measured in "items" or "bytes"/,
  );
});

Deno.test("parseQueueConfig() batch validation: timeout, max < min, min > queue, duplicate keys", () => {
  const { r, issues } = reader({
    sizer: "items",
    queue_size: 100,
    batch: {
      flush_timeout: 0,
      min_size: 200,
      max_size: 150,
      partition: { metadata_keys: ["X-Tenant", "x-tenant"] },
    },
  });
  parseQueueConfig(r);
  const m = messages(issues).join("\n");
  assert.match(m, /batch::flush_timeout: Must be positive/);
  assert.match(m, /batch::max_size: Must be greater than or equal to min_size \(200\)/);
  assert.match(m, /batch::min_size: Must be less than or equal to queue_size \(100\)/);
  assert.match(m, /partition::metadata_keys: Duplicate entry "x-tenant"/);
});

Deno.test("parseQueueConfig() leaves unknown keys to done(), with a suggestion", () => {
  const { r, issues } = reader({ num_consumer: 3 });
  parseQueueConfig(r);
  r.done();
  assert.match(
    messages(issues).join("\n"),
    /Unknown key "num_consumer" \(did you mean "num_consumers"\?\)/,
  );
});
