/**
 * Real clients: the OpenTelemetry JS SDK exports through OTLP/HTTP JSON and protobuf to the
 * receiver; every record, attribute, resource and scope must arrive unchanged, and the SDK's
 * retries against 503 must lose nothing.
 */

import assert from "node:assert/strict";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { OTLPLogExporter as JsonExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as ProtoExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { RetryableError } from "../../core/consumer.ts";
import { type AnyValue, getAttribute, type Logs } from "../../core/pdata/logs.ts";
import { plainAttributes, plainValue, severityOf } from "./_sdk_fixtures.ts";
import { startReceiver } from "./_test_helpers.ts";

const N = 50;

function emitAll(provider: LoggerProvider): void {
  const logger = provider.getLogger("sdk-test-scope", "1.2.3");
  for (let i = 0; i < N; i++) {
    logger.emit({
      timestamp: 1_700_000_000_000 + i,
      ...severityOf(i),
      body: i % 2 === 0 ? `line ${i} héllo 日本` : { nested: { i, list: [1, "two", true] } },
      attributes: {
        "k8s.pod.name": `pod-${i}`,
        "int": i,
        "double": i + 0.5,
        "bool": i % 3 === 0,
        "strings": ["a", "b"],
      },
    });
  }
}

/** A plain JS value from an AnyValue, ints as numbers (the SDK was given numbers). */
const plain = (v: AnyValue | undefined): unknown => plainValue(v, true);

function checkArrived(batches: Logs[]): void {
  const records = batches.flatMap((l) =>
    l.resourceLogs.flatMap((rl) => {
      assert.equal(plain(getAttribute(rl.resource.attributes, "service.name")), "sdk-test");
      assert.equal(plain(getAttribute(rl.resource.attributes, "deployment.environment")), "ci");
      return rl.scopeLogs.flatMap((sl) => {
        assert.deepEqual([sl.scope.name, sl.scope.version], ["sdk-test-scope", "1.2.3"]);
        return sl.logRecords;
      });
    })
  );
  assert.equal(records.length, N);
  const byPod = new Map(records.map((r) => [plain(getAttribute(r.attributes, "k8s.pod.name")), r]));
  for (let i = 0; i < N; i++) {
    const r = byPod.get(`pod-${i}`);
    assert.ok(r, `record ${i} arrived`);
    assert.equal(r.timeUnixNano, BigInt(1_700_000_000_000 + i) * 1_000_000n);
    const { severityNumber, severityText } = severityOf(i);
    assert.equal(r.severityNumber, severityNumber);
    assert.equal(r.severityText, severityText);
    assert.deepEqual(
      plain(r.body),
      i % 2 === 0 ? `line ${i} héllo 日本` : { nested: { i, list: [1, "two", true] } },
    );
    assert.deepEqual(plainAttributes(r.attributes, true), {
      "k8s.pod.name": `pod-${i}`,
      "int": i,
      "double": i + 0.5,
      "bool": i % 3 === 0,
      "strings": ["a", "b"],
    });
  }
}

for (const [name, Exporter] of [["JSON", JsonExporter], ["protobuf", ProtoExporter]] as const) {
  Deno.test(`otlp sdk: ${name} exporter, every record arrives unchanged`, async () => {
    const t = await startReceiver();
    try {
      const provider = new LoggerProvider({
        resource: resourceFromAttributes({
          "service.name": "sdk-test",
          "deployment.environment": "ci",
        }),
        processors: [new BatchLogRecordProcessor({ exporter: new Exporter({ url: t.url }) })],
      });
      emitAll(provider);
      await provider.forceFlush();
      await provider.shutdown();
      checkArrived(t.received.map((r) => r.logs));
    } finally {
      await t.close();
    }
  });
}

Deno.test("otlp sdk: retries after 503 (memory_limiter-style refusals) lose nothing", async () => {
  let refusals = 2;
  const t = await startReceiver({}, () => {
    if (refusals-- > 0) {
      return Promise.reject(new RetryableError("data refused due to high memory usage"));
    }
    return Promise.resolve();
  });
  try {
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({
        "service.name": "sdk-test",
        "deployment.environment": "ci",
      }),
      processors: [
        new BatchLogRecordProcessor({
          // The SDK's CompressionAlgorithm enum value for gzip.
          exporter: new ProtoExporter({ url: t.url, compression: "gzip" as never }),
          exportTimeoutMillis: 30_000,
        }),
      ],
    });
    emitAll(provider);
    await provider.forceFlush();
    await provider.shutdown();
    assert.ok(refusals < 0, "the receiver refused twice");
    checkArrived(t.received.map((r) => r.logs));
    const labels = { receiver: "otlp", transport: "http" };
    assert.equal(t.metrics.value("otelcol_receiver_refused_log_records", labels), 2 * N);
    assert.equal(t.metrics.value("otelcol_receiver_accepted_log_records", labels), N);
  } finally {
    await t.close();
  }
});
