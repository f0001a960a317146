import assert from "node:assert/strict";
import { ComponentId, type CreateSettings } from "../component.ts";
import { consumerFunc, RetryableError } from "../consumer.ts";
import { sampleLogs } from "../pdata/testing.ts";
import { nopLogger } from "../telemetry/logger.ts";
import { MetricsRegistry } from "../telemetry/metrics.ts";
import { ObsReport, RECEIVER_METRICS } from "./mod.ts";

function settings(metrics: MetricsRegistry): CreateSettings {
  return {
    id: new ComponentId("otlp", "in"),
    kind: "receiver",
    logger: nopLogger(),
    metrics,
    componentLabels: { receiver: "otlp/in" },
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
}

const LABELS = { receiver: "otlp/in", transport: "http" };

Deno.test("receiverhelper: counts accepted and refused records with receiver and transport", async () => {
  const metrics = new MetricsRegistry();
  const obs = new ObsReport(settings(metrics), "http");
  assert.deepEqual(obs.labels, LABELS);
  assert.equal(metrics.value(RECEIVER_METRICS.accepted, LABELS), 0);
  assert.equal(metrics.value(RECEIVER_METRICS.refused, LABELS), 0);
  assert.equal(metrics.value(RECEIVER_METRICS.failed, LABELS), 0);

  let refuse = false;
  const refusal = new RetryableError("memory limit");
  const next = obs.wrap(consumerFunc(() => refuse ? Promise.reject(refusal) : Promise.resolve()));
  await next.consume(sampleLogs(3), {});
  await next.consume(sampleLogs(4), {});
  refuse = true;
  await assert.rejects(next.consume(sampleLogs(5), {}), (e) => e === refusal);

  assert.equal(metrics.value(RECEIVER_METRICS.accepted, LABELS), 7);
  assert.equal(metrics.value(RECEIVER_METRICS.refused, LABELS), 5);
  assert.equal(metrics.value(RECEIVER_METRICS.failed, LABELS), 0);
});

Deno.test("receiverhelper: filelog's empty transport is rendered as upstream's empty label", () => {
  const metrics = new MetricsRegistry();
  const s = { ...settings(metrics), componentLabels: { receiver: "filelog" } };
  new ObsReport(s, "").endLogsOp(2);
  assert.match(
    metrics.renderPrometheus(),
    /^otelcol_receiver_accepted_log_records_total\{receiver="filelog",transport=""\} 2$/m,
  );
});

Deno.test("receiverhelper: wrap keeps the consumer's mutatesData", () => {
  const obs = new ObsReport(settings(new MetricsRegistry()), "grpc");
  assert.equal(obs.wrap(consumerFunc(() => Promise.resolve(), true)).mutatesData, true);
  assert.equal(obs.wrap(consumerFunc(() => Promise.resolve(), false)).mutatesData, false);
});
