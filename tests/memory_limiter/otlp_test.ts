import assert from "node:assert/strict";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues } from "../../core/config/reader.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { Registry } from "../../core/registry.ts";
import { Collector } from "../../core/service/collector.ts";
import { parseCollectorConfig } from "../../core/service/config.ts";
import { newMemoryLimiterFactory } from "../../processors/memory_limiter/mod.ts";
import { otlpFactory } from "../../receivers/otlp/mod.ts";
import { bodies, CAPTURED, captureFactory, makeLogs } from "../fakes/components.ts";

const MIB = 1024 * 1024;

Deno.test("memory_limiter in a collector: the otlp receiver answers 503 while memory is high and 200 once it fell", async () => {
  const key = `memory-limiter-otlp-${crypto.randomUUID()}`;
  let inUse = 150 * MIB;
  const checked = { count: 0, next: Promise.withResolvers<void>() };
  const factory = newMemoryLimiterFactory({
    memoryInUse: () => {
      checked.count++;
      checked.next.resolve();
      return inUse;
    },
    gc: undefined,
  });
  /** Resolves after the limiter's next check has read memory. */
  const nextCheck = async () => {
    checked.next = Promise.withResolvers<void>();
    await checked.next.promise;
    await new Promise((r) => setTimeout(r, 0));
  };
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } },
      processors: { memory_limiter: { check_interval: "5ms", limit_mib: 100 } },
      exporters: { capture: { key } },
      service: {
        pipelines: {
          logs: { receivers: ["otlp"], processors: ["memory_limiter"], exporters: ["capture"] },
        },
      },
    }),
    new Registry([otlpFactory, factory, captureFactory]),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  const address = Promise.withResolvers<string>();
  const collector = new Collector(config, {
    logSink: (line) => {
      const m = /Starting HTTP server.*"endpoint":"([^"]+)"/.exec(line);
      if (m) address.resolve(m[1]!);
    },
  });
  await collector.start();
  try {
    const url = `http://${await address.promise}/v1/logs`;
    const post = () =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-protobuf" },
        body: new Uint8Array(encodeLogsRequest(makeLogs("m", 0, 3))),
      });
    await nextCheck();
    const refused = await post();
    assert.equal(refused.status, 503);
    await refused.body?.cancel();
    const m = collector.metrics;
    assert.equal(
      m.value("otelcol_receiver_refused_log_records", { receiver: "otlp", transport: "http" }),
      3,
    );
    assert.equal(
      m.value("otelcol_processor_memory_limiter_refused_log_records", {
        processor: "memory_limiter",
      }),
      3,
    );
    assert.equal(CAPTURED.get(key), undefined);

    inUse = 10 * MIB;
    await nextCheck();
    const accepted = await post();
    assert.equal(accepted.status, 200);
    await accepted.body?.cancel();
    assert.deepEqual((CAPTURED.get(key) ?? []).flatMap(bodies), ["m-0", "m-1", "m-2"]);
    assert.equal(
      m.value("otelcol_receiver_accepted_log_records", { receiver: "otlp", transport: "http" }),
      3,
    );
  } finally {
    await collector.shutdown();
    CAPTURED.delete(key);
  }
});
