import assert from "node:assert/strict";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues } from "../../core/config/reader.ts";
import { Registry } from "../../core/registry.ts";
import { Collector } from "../../core/service/collector.ts";
import { parseCollectorConfig } from "../../core/service/config.ts";
import { filelogFactory } from "../../receivers/filelog/mod.ts";
import { bodies, CAPTURED, captureFactory } from "../fakes/components.ts";

const LINES = 7;

Deno.test("collector with filelog: /metrics counts each line read exactly once as accepted", async () => {
  const dir = await Deno.makeTempDir();
  const key = `filelog-metrics-${crypto.randomUUID()}`;
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      receivers: { filelog: { include: [`${dir}/*.log`], start_at: "beginning" } },
      exporters: { capture: { key } },
      service: {
        telemetry: { metrics: { address: "127.0.0.1:0" } },
        pipelines: { logs: { receivers: ["filelog"], exporters: ["capture"] } },
      },
    }),
    new Registry([filelogFactory, captureFactory]),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  const collector = new Collector(config, { logSink: () => {} });
  const lines = Array.from({ length: LINES }, (_, i) => `line ${i}`);
  await Deno.writeTextFile(`${dir}/app.log`, lines.join("\n") + "\n");
  await collector.start();
  try {
    const url = `http://${collector.metricsAddress}/metrics`;
    const accepted = /^otelcol_receiver_accepted_log_records_total\{(.*)\} (\d+)$/m;
    let text = "";
    for (let i = 0; i < 500; i++) {
      text = await (await fetch(url)).text();
      const m = accepted.exec(text);
      if (m && Number(m[2]) >= LINES) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual((CAPTURED.get(key) ?? []).flatMap(bodies), lines);
    assert.match(
      text,
      new RegExp(
        `^otelcol_receiver_accepted_log_records_total\\{receiver="filelog",transport=""\\} ${LINES}$`,
        "m",
      ),
    );
    assert.match(
      text,
      /^otelcol_receiver_refused_log_records_total\{receiver="filelog",transport=""\} 0$/m,
    );
    assert.equal(text.match(/^otelcol_receiver_accepted_log_records_total\{/gm)?.length, 1);
  } finally {
    await collector.shutdown();
    CAPTURED.delete(key);
    await Deno.remove(dir, { recursive: true });
  }
});
