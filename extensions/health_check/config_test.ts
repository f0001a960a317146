import assert from "node:assert/strict";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { type HealthCheckConfig, parseHealthCheckConfig } from "./config.ts";

function parse(plain: Record<string, unknown>) {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "extensions::health_check", issues);
  const cfg: HealthCheckConfig = parseHealthCheckConfig(r);
  r.done();
  const fmt = (i: { path: string; message: string }) => `${i.path}: ${i.message}`;
  return { cfg, errors: issues.errors.map(fmt), warnings: issues.warnings.map(fmt) };
}

Deno.test("health_check config: upstream's defaults", () => {
  const { cfg, errors } = parse({});
  assert.deepEqual(errors, []);
  assert.equal(cfg.server.endpoint, "localhost:13133");
  assert.equal(cfg.path, "/");
  assert.equal(cfg.responseBody, undefined);
  assert.equal(cfg.server.tls, undefined);
});

Deno.test("health_check config: endpoint, path and response_body", () => {
  const { cfg, errors } = parse({
    endpoint: "0.0.0.0:8433",
    path: "/health/status",
    response_body: { healthy: "I'm OK", unhealthy: "I'm not well" },
  });
  assert.deepEqual(errors, []);
  assert.equal(cfg.server.endpoint, "0.0.0.0:8433");
  assert.equal(cfg.path, "/health/status");
  assert.deepEqual(cfg.responseBody, { healthy: "I'm OK", unhealthy: "I'm not well" });
});

Deno.test("health_check config: path must start with /; tls needs a certificate", () => {
  assert.deepEqual(parse({ path: "health" }).errors, [
    'extensions::health_check::path: path must start with /: current value is "health"',
  ]);
  assert.match(parse({ tls: {} }).errors.join("\n"), /tls: A server needs a certificate/);
});

Deno.test("health_check config: check_collector_pipeline is accepted and ignored as upstream, with a warning when enabled", () => {
  const off = parse({
    check_collector_pipeline: { enabled: false, interval: "5m", exporter_failure_threshold: 5 },
  });
  assert.deepEqual(off.errors, []);
  assert.deepEqual(off.warnings, []);
  const on = parse({ check_collector_pipeline: { enabled: true } });
  assert.deepEqual(on.errors, []);
  assert.match(on.warnings.join("\n"), /check_collector_pipeline::enabled: Ignored, as upstream/);
  assert.match(
    parse({ check_collector_pipeline: { enable: true } }).errors.join("\n"),
    /Unknown key "enable"/,
  );
});

Deno.test("health_check config: upstream's v2 keys are refused by name", () => {
  assert.deepEqual(parse({ use_v2: true }).errors, [
    `extensions::health_check::use_v2: Upstream's v2 health check ("use_v2") is not supported: remove it`,
  ]);
});
