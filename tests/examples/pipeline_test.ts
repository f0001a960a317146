/**
 * The filter and attributes processors inside a running collector: filelog reads JSON lines,
 * one pipeline filters and pseudonymises, a second pipeline on the same receiver gets the
 * records untouched (the processors change data in place, so fan-out must copy for them).
 */

import assert from "node:assert/strict";
import { BUILTIN_FACTORIES } from "../../components.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues } from "../../core/config/reader.ts";
import type { AnyValue, Logs } from "../../core/pdata/logs.ts";
import { Registry } from "../../core/registry.ts";
import { Collector } from "../../core/service/collector.ts";
import { parseCollectorConfig } from "../../core/service/config.ts";
import { hashValue } from "../../pkg/attraction/apply.ts";
import { CAPTURED, captureFactory } from "../fakes/components.ts";

function attributesOf(batches: Logs[]): Record<string, string>[] {
  return batches.flatMap((l) =>
    l.resourceLogs.flatMap((rl) =>
      rl.scopeLogs.flatMap((sl) =>
        sl.logRecords.map((r) =>
          Object.fromEntries(
            r.attributes.map((a) => [a.key, (a.value as AnyValue & { kind: "string" }).value]),
          )
        )
      )
    )
  );
}

Deno.test("collector: filter drops, attributes hashes and deletes, a parallel pipeline sees the originals", async () => {
  const dir = await Deno.makeTempDir();
  const key = `privacy-${crypto.randomUUID()}`;
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      receivers: {
        filelog: {
          include: [`${dir}/*.log`],
          start_at: "beginning",
          include_file_name: false,
          operators: [{ type: "json_parser" }],
        },
      },
      processors: {
        filter: { logs: { log_record: ['attributes["level"] == "debug"'] } },
        attributes: {
          actions: [{ key: "user.id", action: "hash" }, { key: "user.email", action: "delete" }],
        },
      },
      exporters: { "capture/clean": { key: `${key}-clean` }, "capture/raw": { key: `${key}-raw` } },
      service: {
        telemetry: { metrics: { address: "127.0.0.1:0" } },
        pipelines: {
          "logs/clean": {
            receivers: ["filelog"],
            processors: ["filter", "attributes"],
            exporters: ["capture/clean"],
          },
          "logs/raw": { receivers: ["filelog"], exporters: ["capture/raw"] },
        },
      },
    }),
    new Registry([...BUILTIN_FACTORIES, captureFactory]),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  const collector = new Collector(config, { logSink: () => {} });
  const lines = [
    { level: "info", "user.id": "u-1", "user.email": "a@example.com", msg: "login" },
    { level: "debug", "user.id": "u-1", "user.email": "a@example.com", msg: "cache" },
    { level: "warn", "user.id": "u-2", "user.email": "b@example.com", msg: "retry" },
  ];
  await Deno.writeTextFile(`${dir}/app.log`, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  await collector.start();
  try {
    const count = (k: string) => attributesOf(CAPTURED.get(k) ?? []).length;
    for (let i = 0; i < 500 && (count(`${key}-raw`) < 3 || count(`${key}-clean`) < 2); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(attributesOf(CAPTURED.get(`${key}-clean`)!), [
      { level: "info", "user.id": hashValue({ kind: "string", value: "u-1" }), msg: "login" },
      { level: "warn", "user.id": hashValue({ kind: "string", value: "u-2" }), msg: "retry" },
    ]);
    assert.deepEqual(attributesOf(CAPTURED.get(`${key}-raw`)!), lines);
    const metrics = await (await fetch(`http://${collector.metricsAddress}/metrics`)).text();
    assert.match(
      metrics,
      /^otelcol_processor_filter_logs_filtered_total\{.*filter="filter".*\} 1$/m,
    );
  } finally {
    await collector.shutdown();
    CAPTURED.delete(`${key}-clean`);
    CAPTURED.delete(`${key}-raw`);
    await Deno.remove(dir, { recursive: true });
  }
});
