/**
 * Connectors in the service graph: config checks (cycles, ambiguous ids, one-sided use,
 * routes to pipelines that do not receive from the connector), build and start order, and
 * drain order at shutdown with the real `forward` connector and `batch` processor.
 */

import assert from "node:assert/strict";
import type { ConnectorFactory, Factory } from "../../core/component.ts";
import type { ConsumeContext } from "../../core/consumer.ts";
import { fromPlain, type Position } from "../../core/config/node.ts";
import { parseYaml } from "../../core/config/load.ts";
import { ConfigIssues } from "../../core/config/reader.ts";
import { Registry } from "../../core/registry.ts";
import { Collector } from "../../core/service/collector.ts";
import { type CollectorConfig, parseCollectorConfig } from "../../core/service/config.ts";
import { Graph } from "../../core/service/graph.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { type AnyValue, getAttribute, type Logs } from "../../core/pdata/logs.ts";
import { forwardFactory } from "../../connectors/forward/mod.ts";
import { bodies, CAPTURED, TEST_FACTORIES } from "../fakes/components.ts";

/** A connector whose config names pipelines (as routing's does), for the reference checks. */
const namingConnector: ConnectorFactory<{ pipelines: string[]; pos?: Position }> = {
  kind: "connector",
  type: "naming",
  stability: "development",
  description: "Test connector naming pipelines in its config",
  parseConfig: (r) => ({ pipelines: r.stringList("pipelines"), pos: r.posOf("pipelines") }),
  pipelineReferences: (c) =>
    c.pipelines.map((pipeline) => ({ key: "pipelines", pipeline, pos: c.pos })),
  create: (_s, _c, next) => ({
    mutatesData: false,
    consume: (logs, ctx) => [...next.values()][0]!.consume(logs, ctx),
    start: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  }),
};

const FACTORIES: Factory[] = [...TEST_FACTORIES, forwardFactory, namingConnector];

function parse(plain: unknown): { config: CollectorConfig; messages: string[] } {
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(fromPlain(plain), new Registry(FACTORIES), issues);
  const messages = issues.list.map((i) => `${i.severity} ${i.path}: ${i.message}`);
  return { config, messages };
}

function configOf(plain: unknown): CollectorConfig {
  const { config, messages } = parse(plain);
  assert.deepEqual(messages.filter((m) => m.startsWith("error")), []);
  return config;
}

function valueOf(v: AnyValue | undefined): unknown {
  return v !== undefined && "value" in v ? v.value : undefined;
}

const NO_METRICS = { metrics: { level: "none" } };

Deno.test("a cycle through connectors is a config error naming every step of it", () => {
  const { messages } = parse({
    receivers: { testgen: {} },
    exporters: { capture: {} },
    connectors: { "forward/ab": {}, "forward/ba": {} },
    service: {
      telemetry: NO_METRICS,
      pipelines: {
        "logs/in": { receivers: ["testgen"], exporters: ["forward/ab"] },
        "logs/a": { receivers: ["forward/ab", "forward/ba"], exporters: ["forward/ab", "capture"] },
        "logs/b": { receivers: ["forward/ab"], exporters: ["forward/ba"] },
      },
    },
  });
  const cycles = messages.filter((m) => m.includes("cycle"));
  assert.equal(cycles.length, 1, messages.join("\n"));
  assert.match(
    cycles[0]!,
    /^error service::pipelines: The pipelines form a cycle through connectors: logs\/a → connector "forward\/ab" → logs\/a;/,
  );
});

Deno.test("a longer cycle is named from its first pipeline back to it", () => {
  const { messages } = parse({
    receivers: { testgen: {} },
    exporters: { capture: {} },
    connectors: { "forward/x": {}, "forward/y": {} },
    service: {
      telemetry: NO_METRICS,
      pipelines: {
        "logs/a": { receivers: ["testgen", "forward/y"], exporters: ["forward/x"] },
        "logs/b": { receivers: ["forward/x"], exporters: ["forward/y", "capture"] },
      },
    },
  });
  assert.ok(
    messages.includes(
      'error service::pipelines: The pipelines form a cycle through connectors: logs/a → connector "forward/x" → logs/b → connector "forward/y" → logs/a; data would loop forever',
    ),
    messages.join("\n"),
  );
});

Deno.test("connectors used one way only, ambiguous ids and routes to foreign pipelines are errors", () => {
  const { messages } = parse({
    receivers: { testgen: {}, forward: {} },
    exporters: { capture: {} },
    connectors: {
      forward: {},
      "forward/dead_end": {},
      "forward/never_fed": {},
      "forward/unused": {},
      naming: { pipelines: ["logs/out", "logs/other", "logs/missing"] },
    },
    service: {
      telemetry: NO_METRICS,
      pipelines: {
        logs: { receivers: ["testgen"], exporters: ["forward/dead_end", "naming"] },
        "logs/out": { receivers: ["naming", "forward/never_fed"], exporters: ["capture"] },
        "logs/other": { receivers: ["testgen"], exporters: ["capture"] },
      },
    },
  });
  const has = (re: RegExp) =>
    assert.ok(messages.some((m) => re.test(m)), `${re}\n${messages.join("\n")}`);
  has(
    /^error connectors::forward: Ambiguous id: both a receiver and a connector are called "forward"/,
  );
  has(
    /^error connectors::forward\/dead_end: Connector "forward\/dead_end" is an exporter of "logs" but no pipeline lists it under receivers/,
  );
  has(
    /^error connectors::forward\/never_fed: Connector "forward\/never_fed" is a receiver of "logs\/out" but no pipeline lists it under exporters/,
  );
  has(/^warning connectors::forward\/unused: Connector "forward\/unused" is defined but not used/);
  has(
    /^error connectors::naming::pipelines: Pipeline "logs\/other" does not list connector "naming" under receivers/,
  );
  has(
    /^error connectors::naming::pipelines: Pipeline "logs\/missing" is not configured under service::pipelines/,
  );
  assert.ok(!messages.some((m) => m.includes('"logs/out" does not list')), messages.join("\n"));
});

Deno.test("a processor list cannot name a connector; a receivers list can", () => {
  const { messages } = parse({
    receivers: { testgen: {} },
    exporters: { capture: {} },
    connectors: { forward: {} },
    service: {
      telemetry: NO_METRICS,
      pipelines: {
        logs: { receivers: ["testgen"], processors: ["forward"], exporters: ["forward"] },
        "logs/out": { receivers: ["forward"], exporters: ["capture"] },
      },
    },
  });
  assert.deepEqual(messages.filter((m) => m.startsWith("error")), [
    'error service::pipelines::logs::processors: References processor "forward" which is not configured under "processors"',
  ]);
});

const CHAIN = {
  receivers: { testgen: { batches: 4, batch_size: 25 } },
  processors: { "tag/in": { key: "stage", value: "in" }, "tag/b": { key: "branch", value: "b" } },
  exporters: { "capture/a": { key: "c-a" }, "capture/b": { key: "c-b" } },
  connectors: { forward: {} },
  service: {
    telemetry: NO_METRICS,
    pipelines: {
      "logs/in": { receivers: ["testgen"], processors: ["tag/in"], exporters: ["forward"] },
      "logs/a": { receivers: ["forward"], exporters: ["capture/a"] },
      "logs/b": { receivers: ["forward"], processors: ["tag/b"], exporters: ["capture/b"] },
    },
  },
};

Deno.test("the graph is built and started from its downstream end, connectors between pipelines", () => {
  const graph = new Graph(configOf(CHAIN), {
    logger: nopLogger(),
    metrics: new MetricsRegistry(),
    buildInfo: { command: "t", description: "t", version: "0" },
  });
  const names = graph.nodes.map((n) => `${n.kind}:${n.id}${n.pipeline ? "@" + n.pipeline : ""}`);
  assert.deepEqual(names, [
    "exporter:capture/a",
    "exporter:capture/b",
    "processor:tag/b@logs/b",
    "connector:forward",
    "processor:tag/in@logs/in",
    "receiver:testgen",
  ]);
  const forward = graph.nodes.find((n) => n.kind === "connector")!;
  assert.deepEqual(forward.instance.pipelines, ["logs/a", "logs/b", "logs/in"]);
});

Deno.test("forward: every record once in each pipeline it feeds; a mutating pipeline gets its own copy", async () => {
  CAPTURED.clear();
  const collector = new Collector(configOf(CHAIN), { logSink: () => {} });
  await collector.start();
  await collector.shutdown();
  const expected = Array.from({ length: 100 }, (_, i) => `rec-${i}`).sort();
  const attrs = (key: string, name: string) =>
    CAPTURED.get(key)!.flatMap((l) =>
      l.resourceLogs.flatMap((rl) =>
        rl.scopeLogs.flatMap((sl) =>
          sl.logRecords.map((r) => valueOf(getAttribute(r.attributes, name)))
        )
      )
    );
  for (const key of ["c-a", "c-b"]) {
    assert.deepEqual((CAPTURED.get(key) ?? []).flatMap(bodies).sort(), expected, key);
    assert.ok(attrs(key, "stage").every((v) => v === "in"), `${key} went through logs/in`);
  }
  assert.ok(attrs("c-b", "branch").every((v) => v === "b"));
  assert.ok(
    attrs("c-a", "branch").every((v) => v === undefined),
    "logs/b's change stays in logs/b",
  );
});

/**
 * Accepts at once and keeps everything until shutdown, then hands it on; refuses once stopped
 * (what a processor that acknowledges before exporting does). Shows whether shutdown drains
 * each pipeline into one still running.
 */
const holdFactory: Factory = {
  kind: "processor",
  type: "hold",
  stability: "development",
  description: "Test processor holding records until shutdown",
  parseConfig: () => ({}),
  create(_settings, _config, next) {
    const held: [Logs, ConsumeContext][] = [];
    let stopped = false;
    return {
      mutatesData: false,
      start: () => Promise.resolve(),
      consume(logs: Logs, ctx: ConsumeContext) {
        if (stopped) return Promise.reject(new Error("hold: consume after shutdown"));
        held.push([logs, ctx]);
        return Promise.resolve();
      },
      async shutdown() {
        stopped = true;
        for (const [logs, ctx] of held.splice(0)) await next.consume(logs, ctx);
      },
    };
  },
};

Deno.test("shutdown drains upstream pipelines through the connector before downstream ones stop", async () => {
  CAPTURED.clear();
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      receivers: { testgen: { batches: 0, batch_size: 7 } },
      processors: { "hold/in": {}, "hold/out": {} },
      exporters: { capture: { key: "drain" } },
      connectors: { forward: {} },
      service: {
        telemetry: NO_METRICS,
        pipelines: {
          "logs/in": { receivers: ["testgen"], processors: ["hold/in"], exporters: ["forward"] },
          "logs/out": { receivers: ["forward"], processors: ["hold/out"], exporters: ["capture"] },
        },
      },
    }),
    new Registry([...FACTORIES, holdFactory]),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  const logged: string[] = [];
  const collector = new Collector(config, { logSink: (line) => logged.push(line) });
  await collector.start();
  await new Promise((r) => setTimeout(r, 50));
  await collector.shutdown();
  const got = (CAPTURED.get("drain") ?? []).flatMap(bodies);
  assert.ok(got.length >= 7, "records flowed");
  // testgen numbers records without gaps: every accepted one must arrive, once.
  assert.deepEqual(
    [...got].sort(),
    Array.from({ length: got.length }, (_, i) => `rec-${i}`).sort(),
  );
  assert.deepEqual(logged.filter((l) => /failed/.test(l)), []);
});

Deno.test("forward into one pipeline that changes data: the other exporters of the pipeline before it see the original", async () => {
  CAPTURED.clear();
  const collector = new Collector(
    configOf({
      receivers: { testgen: { batches: 3, batch_size: 5 } },
      processors: { tag: { key: "changed", value: "yes" } },
      exporters: { "capture/raw": { key: "raw" }, "capture/tagged": { key: "tagged" } },
      connectors: { forward: {} },
      service: {
        telemetry: NO_METRICS,
        pipelines: {
          logs: { receivers: ["testgen"], exporters: ["forward", "capture/raw"] },
          "logs/tagged": {
            receivers: ["forward"],
            processors: ["tag"],
            exporters: ["capture/tagged"],
          },
        },
      },
    }),
    { logSink: () => {} },
  );
  await collector.start();
  await collector.shutdown();
  const changed = (key: string) =>
    CAPTURED.get(key)!.flatMap((l) =>
      l.resourceLogs.flatMap((rl) =>
        rl.scopeLogs.flatMap((sl) =>
          sl.logRecords.map((r) => valueOf(getAttribute(r.attributes, "changed")))
        )
      )
    );
  assert.equal(changed("raw").length, 15);
  assert.ok(changed("raw").every((v) => v === undefined), "capture/raw got the records unchanged");
  assert.ok(changed("tagged").every((v) => v === "yes"));
});

Deno.test("a routing table naming a foreign pipeline is reported at the table entry's line", () => {
  const issues = new ConfigIssues();
  const root = parseYaml(
    `receivers: {testgen: {}}
exporters: {capture: {}}
connectors:
  naming:
    pipelines: [logs/other]
service:
  pipelines:
    logs: {receivers: [testgen], exporters: [naming]}
    logs/out: {receivers: [naming], exporters: [capture]}
    logs/other: {receivers: [testgen], exporters: [capture]}
`,
    "c.yaml",
    undefined,
    issues,
  );
  parseCollectorConfig(root, new Registry(FACTORIES), issues);
  const issue = issues.errors.find((i) => i.path === "connectors::naming::pipelines");
  assert.equal(issue?.pos?.line, 5, JSON.stringify(issues.list));
});
