/**
 * End to end through the batch processor and the otlp_http exporter: the backend goes away
 * and comes back; every record that was accepted arrives. Also: a permanent error on one
 * request does not hold back the ones behind it.
 */

import assert from "node:assert/strict";
import { ComponentId, type CreateSettings } from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { idsOf, logsWithIds, range } from "../../core/exporterhelper/_test_logs.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { fileStorageFactory } from "../../extensions/file_storage/mod.ts";
import { startExporter } from "../../exporters/otlphttp/_test_helpers.ts";
import { batchFactory } from "../../processors/batch/mod.ts";
import { startOtlpSink } from "../fakes/otlp_sink.ts";

function settings(id: string, kind: CreateSettings["kind"]): CreateSettings {
  return {
    id: ComponentId.parse(id),
    kind,
    logger: nopLogger(),
    metrics: new MetricsRegistry(),
    componentLabels: { [kind]: id },
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
}

function read<C>(factory: { parseConfig(r: ConfigReader): C }, plain: unknown): C {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "x", issues);
  const cfg = factory.parseConfig(r);
  r.done();
  assert.deepEqual(issues.errors, []);
  return cfg;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const FAST_RETRY = { initial_interval: "20ms", max_interval: "100ms", max_elapsed_time: 0 };

/** Sends `total` records in requests of `per` from `producers` concurrent producers. */
async function produce(
  consume: (ids: number[]) => Promise<void>,
  total: number,
  per: number,
  producers: number,
): Promise<void> {
  let next = 0;
  await Promise.all(
    range(0, producers).map(async () => {
      while (next < total) {
        const ids = range(next, Math.min(next + per, total));
        next += ids.length;
        // A producer retries refused data, as filelog does (it keeps its checkpoint).
        for (;;) {
          try {
            await consume(ids);
            break;
          } catch {
            await sleep(20);
          }
        }
      }
    }),
  );
}

Deno.test("outage: the backend is down for a while and comes back; every record arrives", async () => {
  const sink = await startOtlpSink();
  const { exporter } = await startExporter({
    endpoint: sink.url,
    retry_on_failure: FAST_RETRY,
    sending_queue: { num_consumers: 4 },
  });
  const batch = batchFactory.create(
    settings("batch", "processor"),
    read(batchFactory, { send_batch_size: 200, timeout: "20ms" }),
    exporter,
  );
  await batch.start({ getExtension: () => undefined, reportFatalError: (e) => assert.fail(e) });
  await sink.stop();
  const total = 5000;
  const done = produce((ids) => batch.consume(logsWithIds(ids), {}), total, 25, 6);
  await sleep(800);
  assert.equal(sink.requests.length, 0, "nothing got through while down");
  await sink.listen();
  await done;
  await batch.shutdown();
  await exporter.shutdown();
  const got = sink.requests.filter((r) => r.reply === "ok").flatMap((r) => idsOf(r.logs!));
  const unique = new Set(got);
  assert.equal(unique.size, total, "every record arrived");
  assert.deepEqual([...unique].sort((a, b) => a - b), range(0, total));
  console.log(`outage: ${total} records, ${got.length - unique.size} duplicates`);
  await sink.stop();
});

Deno.test("outage with a persistent queue: acknowledged while down, delivered after", async () => {
  const dir = await Deno.makeTempDir({ prefix: "otlphttp_outage_" });
  const sink = await startOtlpSink();
  const storage = fileStorageFactory.create(
    settings("file_storage", "extension"),
    read(fileStorageFactory, { directory: dir }),
  );
  await storage.start({ getExtension: () => undefined, reportFatalError: (e) => assert.fail(e) });
  const { exporter, metrics } = await startExporter({
    endpoint: sink.url,
    retry_on_failure: FAST_RETRY,
    sending_queue: { storage: "file_storage", num_consumers: 2 },
  }, { file_storage: storage });
  await sink.stop();
  for (let i = 0; i < 40; i++) await exporter.consume(logsWithIds(range(i * 10, i * 10 + 10)), {});
  const queued = metrics.value("otelcol_exporter_queue_size", {
    exporter: "otlp_http",
    data_type: "logs",
  });
  assert.ok(
    queued !== undefined && queued > 30,
    `all acknowledged while the backend is down (queue ${queued})`,
  );
  await sink.listen();
  await sink.waitFor(400);
  await exporter.shutdown();
  await storage.shutdown();
  const got = new Set(sink.requests.filter((r) => r.reply === "ok").flatMap((r) => idsOf(r.logs!)));
  assert.deepEqual([...got].sort((a, b) => a - b), range(0, 400));
  await sink.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a permanent error does not block the records queued behind it", async () => {
  const sink = await startOtlpSink();
  sink.script({ kind: "status", status: 400, message: "bad record" });
  const { exporter, metrics } = await startExporter({
    endpoint: sink.url,
    retry_on_failure: FAST_RETRY,
    sending_queue: { num_consumers: 1, wait_for_result: false },
  });
  for (let i = 0; i < 10; i++) await exporter.consume(logsWithIds([i]), {});
  await sink.waitFor(9);
  await exporter.shutdown();
  assert.deepEqual(sink.requests.map((r) => r.reply), ["status", ...Array(9).fill("ok")]);
  assert.equal(
    metrics.value("otelcol_exporter_send_failed_log_records", { exporter: "otlp_http" }),
    1,
  );
  assert.equal(metrics.value("otelcol_exporter_sent_log_records", { exporter: "otlp_http" }), 9);
  await sink.stop();
});
