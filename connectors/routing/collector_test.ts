/**
 * The routing connector in a whole collector: OTLP/HTTP in through the otlp receiver, routed
 * to one pipeline per tenant, out through otlp_http exporters that each send their tenant's
 * `X-Scope-OrgID` to a loopback sink. Every request the sink saw is checked: its header and
 * the records in it.
 */

import assert from "node:assert/strict";
import { BUILTIN_FACTORIES } from "../../components.ts";
import { routingFactory } from "./mod.ts";
import { fromPlain } from "../../core/config/node.ts";
import { loadConfig } from "../../core/config/load.ts";
import { ConfigIssues } from "../../core/config/reader.ts";
import { getAttribute, type Logs } from "../../core/pdata/logs.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { Registry } from "../../core/registry.ts";
import { Collector } from "../../core/service/collector.ts";
import { type CollectorConfig, parseCollectorConfig } from "../../core/service/config.ts";
import { startWithOtlpAddress } from "../../tests/fakes/component_harness.ts";
import { CAPTURED, TEST_FACTORIES } from "../../tests/fakes/components.ts";
import { type OtlpSink, startOtlpSink } from "../../tests/fakes/otlp_sink.ts";
import { repoPath } from "../../tests/fakes/run.ts";
import { batch, bodiesIn, rec } from "./_testing.ts";

const NAMESPACE = "k8s.namespace.name";

/** Starts `config` in-process; returns it with the otlp receiver's logs URL. */
async function start(config: CollectorConfig): Promise<{ collector: Collector; url: string }> {
  const { collector, address } = await startWithOtlpAddress(config);
  return { collector, url: `http://${address}/v1/logs` };
}

function parse(plain: unknown): CollectorConfig {
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(fromPlain(plain), new Registry(BUILTIN_FACTORIES), issues);
  assert.deepEqual(issues.errors, []);
  return config;
}

async function post(url: string, logs: Logs, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-protobuf", ...headers },
    body: new Uint8Array(encodeLogsRequest(logs)),
  });
  await res.body?.cancel();
  assert.equal(res.status, 200);
}

/** Per tenant header, the bodies the sink got; asserts each request holds one tenant's records. */
function byTenant(sink: OtlpSink, tenantOf: (ns: string | undefined) => string) {
  const got: Record<string, string[]> = {};
  for (const req of sink.requests) {
    const tenant = req.headers["x-scope-orgid"] ?? "(none)";
    assert.ok(req.logs, req.decodeError);
    for (const rl of req.logs.resourceLogs) {
      const ns = getAttribute(rl.resource.attributes, NAMESPACE);
      const name = ns?.kind === "string" ? ns.value : undefined;
      assert.equal(tenant, tenantOf(name), `a record of namespace ${name} went to ${tenant}`);
    }
    (got[tenant] ??= []).push(...bodiesIn(req.logs));
  }
  for (const bodies of Object.values(got)) bodies.sort();
  return got;
}

/** One resource per namespace (undefined: no namespace attribute), `n` records each. */
function namespaced(prefix: string, namespaces: (string | undefined)[], n: number): Logs {
  return batch(
    ...namespaces.map((ns): [Record<string, string>, ReturnType<typeof rec>[]] => [
      ns === undefined ? {} : { [NAMESPACE]: ns },
      Array.from({ length: n }, (_, i) => rec(`${prefix}-${ns ?? "none"}-${i}`)),
    ]),
  );
}

/**
 * otlp (`http` settings) → `routing` (its config) → one pipeline `logs/<tenant>` per tenant,
 * each with an otlp_http exporter sending `X-Scope-OrgID: <tenant>` to `sink`.
 */
function tenantsConfig(
  sink: OtlpSink,
  tenants: readonly string[],
  http: Record<string, unknown>,
  routing: Record<string, unknown>,
) {
  return parse({
    receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0", ...http } } } },
    connectors: { routing },
    exporters: Object.fromEntries(tenants.map((t) => [
      `otlp_http/${t}`,
      { endpoint: sink.url, headers: { "X-Scope-OrgID": t } },
    ])),
    service: {
      telemetry: { metrics: { level: "none" } },
      pipelines: {
        "logs/in": { receivers: ["otlp"], exporters: ["routing"] },
        ...Object.fromEntries(tenants.map((t) => [
          `logs/${t}`,
          { receivers: ["routing"], exporters: [`otlp_http/${t}`] },
        ])),
      },
    },
  });
}

Deno.test("collector: three namespaces to three tenants, a record without a namespace to the default", async () => {
  const sink = await startOtlpSink();
  const tenants = ["tenant-a", "tenant-b", "tenant-c", "tenant-default"];
  const config = tenantsConfig(sink, tenants, {}, {
    default_pipelines: ["logs/tenant-default"],
    table: ["a", "b", "c"].map((x) => ({
      condition: `attributes["${NAMESPACE}"] == "ns-${x}"`,
      pipelines: [`logs/tenant-${x}`],
    })),
  });
  const { collector, url } = await start(config);
  try {
    await post(url, namespaced("r1", ["ns-a", "ns-b", "ns-c", undefined, "ns-x"], 3));
    await post(url, namespaced("r2", ["ns-c", "ns-a"], 2));
    await post(url, namespaced("r3", ["ns-b"], 1));
  } finally {
    await collector.shutdown(); // drains the exporters' queues
    await sink.stop();
  }
  const tenantOf = (ns: string | undefined) =>
    ns !== undefined && /^ns-[abc]$/.test(ns) ? `tenant-${ns.slice(3)}` : "tenant-default";
  const names = (prefix: string, ns: string, n: number) =>
    Array.from({ length: n }, (_, i) => `${prefix}-${ns}-${i}`);
  assert.deepEqual(byTenant(sink, tenantOf), {
    "tenant-a": [...names("r1", "ns-a", 3), ...names("r2", "ns-a", 2)].sort(),
    "tenant-b": [...names("r1", "ns-b", 3), ...names("r3", "ns-b", 1)].sort(),
    "tenant-c": [...names("r1", "ns-c", 3), ...names("r2", "ns-c", 2)].sort(),
    "tenant-default": [...names("r1", "none", 3), ...names("r1", "ns-x", 3)].sort(),
  });
});

Deno.test('collector: request["X-Tenant"] from the otlp receiver\'s include_metadata picks the tenant', async () => {
  const sink = await startOtlpSink();
  const tenants = ["acme", "ecorp", "other"];
  const config = tenantsConfig(sink, tenants, { include_metadata: true }, {
    default_pipelines: ["logs/other"],
    table: ["acme", "ecorp"].map((t) => ({
      context: "request",
      condition: `request["X-Tenant"] == "${t}"`,
      pipelines: [`logs/${t}`],
    })),
  });
  const { collector, url } = await start(config);
  try {
    await post(url, namespaced("1", ["ns-a", "ns-b"], 2), { "X-Tenant": "acme" });
    await post(url, namespaced("2", ["ns-a"], 1), { "x-tenant": "ecorp" });
    await post(url, namespaced("3", ["ns-a"], 1), { "X-Tenant": "nobody" });
    await post(url, namespaced("4", ["ns-b"], 1));
  } finally {
    await collector.shutdown();
    await sink.stop();
  }
  const got: Record<string, string[]> = {};
  for (const req of sink.requests) {
    (got[req.headers["x-scope-orgid"]!] ??= []).push(...bodiesIn(req.logs!));
  }
  for (const bodies of Object.values(got)) bodies.sort();
  assert.deepEqual(got, {
    acme: ["1-ns-a-0", "1-ns-a-1", "1-ns-b-0", "1-ns-b-1"],
    ecorp: ["2-ns-a-0"],
    other: ["3-ns-a-0", "4-ns-b-0"],
  });
});

Deno.test("collector: examples/routing_namespaces_to_tenants.yaml sends ns-a and ns-b to tenant A, the rest to tenant B", async () => {
  const sink = await startOtlpSink();
  const issues = new ConfigIssues();
  const root = await loadConfig(
    [repoPath("examples/routing_namespaces_to_tenants.yaml")],
    [
      "receivers::otlp::protocols::http::endpoint=127.0.0.1:0",
      "service::telemetry::metrics::level=none",
    ],
    { env: (k) => (k === "OTLP_ENDPOINT" ? sink.url : undefined) },
    issues,
  );
  const config = parseCollectorConfig(root, new Registry(BUILTIN_FACTORIES), issues);
  assert.deepEqual(issues.list, []);
  const { collector, url } = await start(config);
  try {
    await post(url, namespaced("r", ["ns-a", "ns-b", "ns-c", undefined, "kube-system"], 2));
  } finally {
    await collector.shutdown();
    await sink.stop();
  }
  const tenantOf = (ns: string | undefined) =>
    ns === "ns-a" || ns === "ns-b" ? "tenant-a" : "tenant-b";
  assert.deepEqual(byTenant(sink, tenantOf), {
    "tenant-a": ["r-ns-a-0", "r-ns-a-1", "r-ns-b-0", "r-ns-b-1"],
    "tenant-b": [
      "r-kube-system-0",
      "r-kube-system-1",
      "r-none-0",
      "r-none-1",
      "r-ns-c-0",
      "r-ns-c-1",
    ],
  });
});

Deno.test("collector: a pipeline routed to that changes data does not change what another exporter of the routing pipeline got", async () => {
  const key = `routing-${crypto.randomUUID()}`;
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      receivers: { testgen: { batches: 2, batch_size: 5 } },
      processors: { tag: { key: "routed", value: "yes" } },
      exporters: { "capture/raw": { key: `${key}-raw` }, "capture/a": { key: `${key}-a` } },
      connectors: {
        routing: { table: [{ condition: 'attributes["source"] == "rec"', pipelines: ["logs/a"] }] },
      },
      service: {
        telemetry: { metrics: { level: "none" } },
        pipelines: {
          "logs/in": { receivers: ["testgen"], exporters: ["routing", "capture/raw"] },
          "logs/a": { receivers: ["routing"], processors: ["tag"], exporters: ["capture/a"] },
        },
      },
    }),
    new Registry([...TEST_FACTORIES, routingFactory]),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  const collector = new Collector(config, { logSink: () => {} });
  await collector.start();
  await collector.shutdown();
  const routed = (k: string) =>
    (CAPTURED.get(k) ?? []).flatMap((l) =>
      l.resourceLogs.flatMap((rl) =>
        rl.scopeLogs.flatMap((sl) =>
          sl.logRecords.map((r) => getAttribute(r.attributes, "routed")?.kind ?? "absent")
        )
      )
    );
  try {
    assert.deepEqual(routed(`${key}-a`), Array(10).fill("string"));
    assert.deepEqual(routed(`${key}-raw`), Array(10).fill("absent"));
  } finally {
    CAPTURED.delete(`${key}-raw`);
    CAPTURED.delete(`${key}-a`);
  }
});
