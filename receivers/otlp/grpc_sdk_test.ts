/**
 * Real clients against the gRPC side: the OpenTelemetry JS SDK (`@opentelemetry/sdk-logs`
 * with `@opentelemetry/exporter-logs-otlp-grpc`), and grpc-js with a retry policy.
 */

import * as grpc from "@grpc/grpc-js";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-grpc";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import assert from "node:assert/strict";
import { ComponentId } from "../../core/component.ts";
import { RetryableError } from "../../core/consumer.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { sampleLogs } from "../../core/pdata/testing.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { RECEIVER_METRICS } from "../../core/receiverhelper/mod.ts";
import { BearerTokenAuth } from "../../extensions/bearertokenauth/extension.ts";
import { RawClient, startTestServer, type TestServer } from "./_grpc_test_helpers.ts";
import { EXPORT_LOGS_PATH } from "./grpc_server.ts";
import { plainAttributes, plainValue, severityOf } from "./_sdk_fixtures.ts";

const RESOURCE = {
  "service.name": "checkout",
  "k8s.namespace.name": "payments",
  "k8s.pod.name": "checkout-7d9f8b6c5d-x2x7q",
  "host.cpu.count": 8,
};

/** A provider exporting through the SDK's gRPC exporter to `t`. */
function sdkProvider(t: TestServer, metadata?: grpc.Metadata) {
  const exporter = new OTLPLogExporter({ url: `http://${t.address}`, metadata });
  const results: { code: number; error?: { code?: number } }[] = [];
  type Export = OTLPLogExporter["export"];
  const processor = new BatchLogRecordProcessor({
    exporter: {
      export: (records: Parameters<Export>[0], done: Parameters<Export>[1]) =>
        exporter.export(records, (r) => {
          results.push(r as (typeof results)[number]);
          done(r);
        }),
      forceFlush: () => exporter.forceFlush(),
      shutdown: () => exporter.shutdown(),
    },
    scheduledDelayMillis: 60_000,
    maxExportBatchSize: 512,
    maxQueueSize: 10_000,
  });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(RESOURCE),
    processors: [processor],
  });
  return { provider, results };
}

/** Flattens a received batch to comparable rows. */
function rows(batches: Logs[]) {
  const out = [];
  for (const logs of batches) {
    for (const rl of logs.resourceLogs) {
      for (const sl of rl.scopeLogs) {
        for (const r of sl.logRecords) {
          out.push({
            resource: plainAttributes(rl.resource.attributes),
            scope: `${sl.scope.name}@${sl.scope.version}`,
            scopeAttributes: plainAttributes(sl.scope.attributes),
            time: r.timeUnixNano,
            severity: [r.severityNumber, r.severityText],
            body: plainValue(r.body),
            attributes: plainAttributes(r.attributes),
          });
        }
      }
    }
  }
  return out;
}

Deno.test("otlp grpc + JS SDK: every record, attribute, resource and scope arrives unchanged", async () => {
  const t = await startTestServer({ include_metadata: true });
  const { provider, results } = sdkProvider(t);
  try {
    const api = provider.getLogger("checkout.api", "1.4.2", {
      attributes: { "team": "payments" },
    });
    const db = provider.getLogger("checkout.db", "0.9.0");
    const expected = [];
    for (let i = 0; i < 1200; i++) {
      const logger = i % 3 === 0 ? db : api;
      const seconds = 1_700_000_000 + i;
      const attributes = {
        "http.route": `/cart/${i}`,
        "retry": i % 5,
        "ratio": i / 7,
        "cached": i % 2 === 0,
        "tags": ["a", `t${i}`],
      };
      const body = i % 4 === 0 ? { event: "order", id: i, items: [1, 2, 3] } : `line ${i} ✓ 日本`;
      const { severityNumber, severityText } = severityOf(i);
      logger.emit({
        timestamp: [seconds, 123_456_789],
        severityNumber,
        severityText,
        body,
        attributes,
      });
      expected.push({
        resource: { ...RESOURCE, "host.cpu.count": 8n },
        scope: logger === db ? "checkout.db@0.9.0" : "checkout.api@1.4.2",
        scopeAttributes: logger === db ? {} : { team: "payments" },
        time: BigInt(seconds) * 1_000_000_000n + 123_456_789n,
        severity: [severityNumber, severityText],
        body: typeof body === "string"
          ? body
          : { event: "order", id: BigInt(i), items: [1n, 2n, 3n] },
        attributes: { ...attributes, retry: BigInt(i % 5) },
      });
    }
    await provider.forceFlush();
    assert.ok(results.every((r) => r.code === 0), JSON.stringify(results));
    const got = rows(t.received.map((r) => r.logs));
    const byTime = (a: { time: bigint }, b: { time: bigint }) => a.time < b.time ? -1 : 1;
    // The SDK sends integral numbers as ints (ratio 0, 1, …): `ratio` is compared as a number.
    assert.deepEqual(got.sort(byTime).map(normalizeRatio), expected.map(normalizeRatio));
    assert.equal(
      t.metrics.value(RECEIVER_METRICS.accepted, { receiver: "otlp", transport: "grpc" }),
      1200,
    );
    const client = t.received[0]!.ctx.client!;
    assert.equal(client.addr, "127.0.0.1");
    assert.match(client.metadata!.get("user-agent")![0]!, /OTel-OTLP-Exporter-JavaScript/);
  } finally {
    await provider.shutdown();
    await t.stop();
  }
});

/** `ratio` with its int/double distinction dropped. */
function normalizeRatio<T extends { attributes: Record<string, unknown> }>(row: T): T {
  const ratio = row.attributes["ratio"];
  return { ...row, attributes: { ...row.attributes, ratio: Number(ratio) } };
}

Deno.test("otlp grpc + JS SDK: the token goes in the metadata; without it, Unauthenticated", async () => {
  const auth = new BearerTokenAuth(
    {
      id: new ComponentId("bearertokenauth"),
      kind: "extension",
      logger: nopLogger(),
      metrics: new MetricsRegistry(),
      componentLabels: {},
      buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
    },
    { header: "Authorization", scheme: "Bearer", tokens: ["s3cr3t"], filename: "" },
  );
  await auth.start();
  const t = await startTestServer({ auth: { authenticator: "bearertokenauth" } }, {
    bearertokenauth: auth,
  });
  const md = new grpc.Metadata();
  md.set("authorization", "Bearer s3cr3t");
  const good = sdkProvider(t, md);
  const bad = sdkProvider(t);
  try {
    good.provider.getLogger("a").emit({ body: "let in" });
    await good.provider.forceFlush();
    bad.provider.getLogger("a").emit({ body: "kept out" });
    await bad.provider.forceFlush();
    assert.deepEqual(good.results.map((r) => r.code), [0]);
    assert.deepEqual(bad.results.map((r) => [r.code, r.error?.code]), [[
      1,
      grpc.status.UNAUTHENTICATED,
    ]]);
    assert.deepEqual(rows(t.received.map((r) => r.logs)).map((r) => r.body), ["let in"]);
  } finally {
    await good.provider.shutdown();
    await bad.provider.shutdown();
    await t.stop();
  }
});

Deno.test("otlp grpc + JS SDK: a refusal reaches the SDK as Unavailable (which it does not retry)", async () => {
  const t = await startTestServer();
  const { provider, results } = sdkProvider(t);
  try {
    t.consume = () => Promise.reject(new RetryableError("data refused due to high memory usage"));
    provider.getLogger("a").emit({ body: "refused" });
    await provider.forceFlush();
    // The SDK's gRPC transport (0.301.2) reports every gRPC error as a plain failure, so its
    // retrying transport never retries: the batch is dropped client-side. The receiver's
    // answer is the retryable one the OTLP spec asks for; see the next test for a client
    // that retries on it.
    assert.deepEqual(results.map((r) => [r.code, r.error?.code]), [[1, grpc.status.UNAVAILABLE]]);
    assert.equal(t.received.length, 0);
  } finally {
    await provider.shutdown();
    await t.stop();
  }
});

Deno.test("otlp grpc: a client that retries on Unavailable loses nothing and duplicates nothing", async () => {
  const t = await startTestServer();
  const serviceConfig = {
    methodConfig: [{
      name: [{ service: EXPORT_LOGS_PATH.split("/")[1] }],
      retryPolicy: {
        maxAttempts: 5,
        initialBackoff: "0.01s",
        maxBackoff: "0.05s",
        backoffMultiplier: 2,
        retryableStatusCodes: ["UNAVAILABLE", "RESOURCE_EXHAUSTED"],
      },
    }],
  };
  const client = new RawClient(t.address, undefined, {
    "grpc.service_config": JSON.stringify(serviceConfig),
  });
  try {
    let calls = 0;
    // Every other call is refused as memory_limiter refuses above its soft limit.
    t.consume = () =>
      ++calls % 2 === 1
        ? Promise.reject(new RetryableError("data refused due to high memory usage"))
        : Promise.resolve();
    const sent: Logs[] = [];
    for (let i = 0; i < 20; i++) {
      const logs = sampleLogs(10 + i);
      sent.push(logs);
      const r = await client.export(encodeLogsRequest(logs));
      assert.equal(r.code, grpc.status.OK, r.details);
    }
    assert.equal(calls, 40, "each batch was refused once, then accepted");
    assert.deepEqual(t.received.map((r) => r.logs), sent);
    const labels = { receiver: "otlp", transport: "grpc" };
    const total = sent.reduce((n, _, i) => n + 10 + i, 0);
    assert.equal(t.metrics.value(RECEIVER_METRICS.accepted, labels), total);
    assert.equal(t.metrics.value(RECEIVER_METRICS.refused, labels), total);
  } finally {
    client.close();
    await t.stop();
  }
});
