import assert from "node:assert/strict";
import { ConfigIssues } from "../config/reader.ts";
import { fromPlain } from "../config/node.ts";
import { Registry } from "../registry.ts";
import { nopLogger } from "../telemetry/logger.ts";
import { MetricsRegistry } from "../telemetry/metrics.ts";
import { getAttribute } from "../pdata/logs.ts";
import { type CollectorConfig, parseCollectorConfig } from "./config.ts";
import { Graph } from "./graph.ts";
import {
  bodies,
  CAPTURED,
  captureFactory,
  flakyExtensionFactory,
  tagFactory,
  testgenFactory,
} from "../../tests/fakes/components.ts";
import { Collector } from "./collector.ts";
import type { Factory } from "../component.ts";

const FACTORIES: Factory[] = [testgenFactory, captureFactory, tagFactory, flakyExtensionFactory];

function configOf(plain: unknown): CollectorConfig {
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(fromPlain(plain), new Registry(FACTORIES), issues);
  assert.deepEqual(issues.errors, []);
  return config;
}

const TWO_BY_TWO = {
  receivers: {
    "testgen/a": { prefix: "a", batches: 5, batch_size: 20 },
    "testgen/b": { prefix: "b", batches: 3, batch_size: 7 },
  },
  processors: { "tag/left": { key: "branch", value: "left" } },
  exporters: { "capture/left": { key: "g-left" }, "capture/right": { key: "g-right" } },
  service: {
    telemetry: { metrics: { level: "none" } },
    pipelines: {
      "logs/left": {
        receivers: ["testgen/a", "testgen/b"],
        processors: ["tag/left"],
        exporters: ["capture/left"],
      },
      "logs/right": { receivers: ["testgen/a", "testgen/b"], exporters: ["capture/right"] },
    },
  },
};

Deno.test("two receivers, two pipelines, two exporters: every record once at each exporter, branches isolated", async () => {
  CAPTURED.clear();
  const collector = new Collector(configOf(TWO_BY_TWO), { logSink: () => {} });
  await collector.start();
  await collector.shutdown(); // receivers' loops finish their batches before shutdown resolves
  const expected = [
    ...Array.from({ length: 100 }, (_, i) => `a-${i}`),
    ...Array.from({ length: 21 }, (_, i) => `b-${i}`),
  ].sort();
  for (const key of ["g-left", "g-right"]) {
    const got = (CAPTURED.get(key) ?? []).flatMap(bodies).sort();
    assert.deepEqual(got, expected, `exporter ${key} got every record exactly once`);
  }
  const branchOf = (key: string) =>
    CAPTURED.get(key)!.flatMap((l) =>
      l.resourceLogs.flatMap((rl) =>
        rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => getAttribute(r.attributes, "branch")))
      )
    );
  assert.ok(branchOf("g-left").every((v) => v?.kind === "string" && v.value === "left"));
  assert.ok(
    branchOf("g-right").every((v) => v === undefined),
    "right branch unchanged by left's processor",
  );
  assert.equal(
    collector.metrics.value("otelcol_receiver_accepted_log_records", {
      receiver: "testgen/a",
      transport: "",
    }),
    100,
  );
  assert.equal(
    collector.metrics.value("otelcol_processor_incoming_items", {
      processor: "tag/left",
      otel_signal: "logs",
    }),
    121,
  );
  assert.equal(
    collector.metrics.value("otelcol_processor_outgoing_items", {
      processor: "tag/left",
      otel_signal: "logs",
    }),
    121,
  );
});

Deno.test("a receiver shared by pipelines is one instance; processors are one per pipeline", () => {
  const graph = new Graph(configOf(TWO_BY_TWO), {
    logger: nopLogger(),
    metrics: new MetricsRegistry(),
    buildInfo: { command: "t", description: "t", version: "0" },
  });
  const kinds = graph.nodes.map((n) => `${n.kind}:${n.id}${n.pipeline ? "@" + n.pipeline : ""}`);
  assert.deepEqual(kinds, [
    "exporter:capture/left",
    "exporter:capture/right",
    "processor:tag/left@logs/left",
    "receiver:testgen/a",
    "receiver:testgen/b",
  ]);
});

function recordingFactory(order: string[]): Factory[] {
  const wrap = <F extends Factory>(f: F): F => ({
    ...f,
    create(settings: Parameters<F["create"]>[0], config: unknown, next?: unknown) {
      // deno-lint-ignore no-explicit-any
      const c = (f.create as any)(settings, config, next);
      return {
        ...c,
        consume: c.consume?.bind(c),
        mutatesData: c.mutatesData,
        async start(host: unknown) {
          order.push(`start ${settings.kind} ${settings.id}`);
          await c.start(host);
        },
        async shutdown() {
          order.push(`stop ${settings.kind} ${settings.id}`);
          await c.shutdown();
        },
      };
    },
  });
  return FACTORIES.map(wrap);
}

Deno.test("start order is extensions, exporters, processors, receivers; shutdown is the reverse", async () => {
  const order: string[] = [];
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      extensions: { flaky: {} },
      receivers: { testgen: { batches: 1 } },
      processors: { "tag/1": {}, "tag/2": {} },
      exporters: { capture: {} },
      service: {
        extensions: ["flaky"],
        telemetry: { metrics: { level: "none" } },
        pipelines: {
          logs: { receivers: ["testgen"], processors: ["tag/1", "tag/2"], exporters: ["capture"] },
        },
      },
    }),
    new Registry(recordingFactory(order)),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  const c = new Collector(config, { logSink: () => {} });
  await c.start();
  await c.shutdown();
  assert.deepEqual(order, [
    "start extension flaky",
    "start exporter capture",
    "start processor tag/2",
    "start processor tag/1",
    "start receiver testgen",
    "stop receiver testgen",
    "stop processor tag/1",
    "stop processor tag/2",
    "stop exporter capture",
    "stop extension flaky",
  ]);
});

Deno.test("a component failing to start stops those already started and names itself", async () => {
  const order: string[] = [];
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      extensions: { "flaky/ok": {}, "flaky/bad": { fail: true } },
      receivers: { testgen: {} },
      exporters: { capture: {} },
      service: {
        extensions: ["flaky/ok", "flaky/bad"],
        telemetry: { metrics: { level: "none" } },
        pipelines: { logs: { receivers: ["testgen"], exporters: ["capture"] } },
      },
    }),
    new Registry(recordingFactory(order)),
    issues,
  );
  const c = new Collector(config, { logSink: () => {} });
  await assert.rejects(c.start(), /Failed to start "flaky\/bad" extension: disk on fire/);
  assert.deepEqual(order, [
    "start extension flaky/ok",
    "start extension flaky/bad",
    "stop extension flaky/bad",
    "stop extension flaky/ok",
  ]);
});

Deno.test("an exporter that splits batches leaves its fan-out sibling's data whole", async () => {
  const { otlpHttpFactory } = await import("../../exporters/otlphttp/mod.ts");
  const { startOtlpSink } = await import("../../tests/fakes/otlp_sink.ts");
  const sink = await startOtlpSink();
  try {
    CAPTURED.clear();
    const issues = new ConfigIssues();
    const config = parseCollectorConfig(
      fromPlain({
        receivers: { testgen: { batches: 1, batch_size: 10 } },
        exporters: {
          otlp_http: {
            endpoint: sink.url,
            sending_queue: { batch: { max_size: 2, min_size: 2, flush_timeout: "10ms" } },
          },
          capture: { key: "sibling" },
        },
        service: {
          telemetry: { metrics: { level: "none" } },
          pipelines: { logs: { receivers: ["testgen"], exporters: ["otlp_http", "capture"] } },
        },
      }),
      new Registry([...FACTORIES, otlpHttpFactory]),
      issues,
    );
    assert.deepEqual(issues.errors, []);
    const c = new Collector(config, { logSink: () => {} });
    await c.start();
    await c.shutdown();
    assert.equal(CAPTURED.get("sibling")!.flatMap(bodies).length, 10);
    assert.equal(sink.records, 10);
  } finally {
    await sink.stop();
  }
});
