import assert from "node:assert/strict";
import type { ExporterFactory, Host } from "../../core/component.ts";
import { reportStatus } from "../../core/componentstatus/mod.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues } from "../../core/config/reader.ts";
import { Registry } from "../../core/registry.ts";
import { Collector } from "../../core/service/collector.ts";
import { parseCollectorConfig } from "../../core/service/config.ts";
import { testgenFactory } from "../../tests/fakes/components.ts";
import { healthCheckFactory } from "./mod.ts";

/** An exporter whose start and shutdown wait until the test opens them. */
function gatedExporter() {
  const startGate = Promise.withResolvers<void>();
  const stopGate = Promise.withResolvers<void>();
  const stopping = Promise.withResolvers<void>();
  let host: Host | undefined;
  const factory: ExporterFactory<Record<never, never>> = {
    kind: "exporter",
    type: "gate",
    stability: "development",
    description: "Test exporter with gated start and shutdown",
    parseConfig: () => ({}),
    create: () => ({
      mutatesData: false,
      consume: () => Promise.resolve(),
      async start(h: Host) {
        host = h;
        await startGate.promise;
      },
      async shutdown() {
        stopping.resolve();
        await stopGate.promise;
      },
    }),
  };
  return { factory, startGate, stopGate, stopping, host: () => host! };
}

function collectorWith(health: Record<string, unknown>, gate: ExporterFactory) {
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      extensions: { health_check: { endpoint: "127.0.0.1:0", ...health } },
      receivers: { testgen: {} },
      exporters: { gate: {} },
      service: {
        extensions: ["health_check"],
        telemetry: { metrics: { level: "none" } },
        pipelines: { logs: { receivers: ["testgen"], exporters: ["gate"] } },
      },
    }),
    new Registry([healthCheckFactory, testgenFactory, gate]),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  const address = Promise.withResolvers<string>();
  const collector = new Collector(config, {
    logSink: (line) => {
      const m = /Health check server listening.*"endpoint":"([^"]+)"/.exec(line);
      if (m) address.resolve(m[1]!);
    },
  });
  return { collector, address: address.promise };
}

async function get(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

const UNAVAILABLE = { status: "Server not available", upSince: "0001-01-01T00:00:00Z", uptime: "" };

Deno.test("health_check: 503 while starting, 200 when running, 503 while a component reports an error, 503 during shutdown", async () => {
  const gate = gatedExporter();
  const { collector, address } = collectorWith({}, gate.factory);
  const started = collector.start();
  const url = `http://${await address}/`;

  const starting = await get(url);
  assert.equal(starting.status, 503);
  assert.equal(starting.type, "application/json");
  assert.deepEqual(JSON.parse(starting.body), UNAVAILABLE);

  gate.startGate.resolve();
  await started;
  const running = await get(url);
  assert.equal(running.status, 200);
  const body = JSON.parse(running.body);
  assert.deepEqual(Object.keys(body), ["status", "upSince", "uptime"]);
  assert.equal(body.status, "Server available");
  assert.ok(Math.abs(Date.parse(body.upSince) - Date.now()) < 60_000, body.upSince);
  assert.match(body.uptime, /^(\d+(\.\d+)?(ns|µs|ms|s)|\d+m\d+(\.\d+)?s)$/);
  assert.equal((await get(`${url}any/path`)).status, 200, 'path "/" serves every path');

  reportStatus(gate.host(), "recoverable_error", new Error("backend down"));
  const degraded = await get(url);
  assert.equal(degraded.status, 503);
  assert.deepEqual(JSON.parse(degraded.body), UNAVAILABLE);
  reportStatus(gate.host(), "ok");
  assert.equal((await get(url)).status, 200);

  const stopped = collector.shutdown();
  await gate.stopping.promise;
  const stopping = await get(url);
  assert.equal(stopping.status, 503);
  assert.deepEqual(JSON.parse(stopping.body), UNAVAILABLE);
  gate.stopGate.resolve();
  await stopped;
  await assert.rejects(fetch(url), "the server is closed after shutdown");
});

Deno.test("health_check: response_body replaces the JSON; other paths are 404", async () => {
  const gate = gatedExporter();
  gate.startGate.resolve();
  gate.stopGate.resolve();
  const { collector, address } = collectorWith({
    path: "/health/status",
    response_body: { healthy: "I'm OK", unhealthy: "I'm not well" },
  }, gate.factory);
  await collector.start();
  try {
    const base = `http://${await address}`;
    assert.deepEqual(await get(`${base}/health/status`), {
      status: 200,
      type: "text/plain; charset=utf-8",
      body: "I'm OK",
    });
    assert.equal((await get(`${base}/`)).status, 404);
    assert.equal((await get(`${base}/health/status/more`)).status, 404);
    reportStatus(gate.host(), "permanent_error", new Error("bad config at runtime"));
    assert.deepEqual(await get(`${base}/health/status`), {
      status: 503,
      type: "text/plain; charset=utf-8",
      body: "I'm not well",
    });
  } finally {
    await collector.shutdown();
  }
});
