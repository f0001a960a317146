import assert from "node:assert/strict";
import { fromPlain } from "../config/node.ts";
import { ConfigIssues } from "../config/reader.ts";
import { Registry } from "../registry.ts";
import { captureFactory, testgenFactory } from "../../tests/fakes/components.ts";
import { Collector } from "./collector.ts";
import { parseCollectorConfig } from "./config.ts";
import { parseHostPort } from "../confighttp/config.ts";

/** A collector of testgen → capture, with `service::telemetry::metrics` set to `metrics`. */
function collector(metrics: Record<string, unknown>, testgen: Record<string, unknown> = {}) {
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      receivers: { testgen },
      exporters: { capture: {} },
      service: {
        telemetry: { metrics },
        pipelines: { logs: { receivers: ["testgen"], exporters: ["capture"] } },
      },
    }),
    new Registry([testgenFactory, captureFactory]),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  return new Collector(config, { logSink: () => {} });
}

Deno.test("own metrics are served as Prometheus text with upstream's names", async () => {
  const c = collector({ address: "127.0.0.1:0" }, { batches: 2, batch_size: 5 });
  await c.start();
  try {
    const port = c.metricsAddress!.split(":").pop();
    // The generator finishes its two batches quickly; poll until they are counted.
    let text = "";
    for (let i = 0; i < 100 && !text.includes(" 10\n"); i++) {
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.match(
      text,
      /otelcol_receiver_accepted_log_records_total\{receiver="testgen",transport=""\} 10/,
    );
    assert.match(
      text,
      /otelcol_receiver_refused_log_records_total\{receiver="testgen",transport=""\} 0/,
    );
    assert.match(text, /otelcol_process_uptime /);
    const notFound = await fetch(`http://127.0.0.1:${port}/other`);
    assert.equal(notFound.status, 404);
    await notFound.body?.cancel();
  } finally {
    await c.shutdown();
  }
});

Deno.test("a busy metrics port fails start with the address and the key to change", async () => {
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const c = collector({ address: `127.0.0.1:${(blocker.addr as Deno.NetAddr).port}` });
    await assert.rejects(
      c.start(),
      /Cannot serve own metrics on "127\.0\.0\.1:\d+".*service::telemetry::metrics::address/,
    );
  } finally {
    blocker.close();
  }
});

Deno.test("parseHostPort() accepts host:port and [v6]:port", () => {
  assert.deepEqual(parseHostPort("localhost:8888"), { hostname: "localhost", port: 8888 });
  assert.deepEqual(parseHostPort("[::1]:9"), { hostname: "::1", port: 9 });
  assert.deepEqual(parseHostPort(":8888"), { hostname: "0.0.0.0", port: 8888 });
  assert.throws(() => parseHostPort("nope"), /Invalid address "nope"/);
  assert.throws(() => parseHostPort("h:70000"), /Invalid address/);
});

Deno.test("service::telemetry::metrics::level reaches the registry components report into", () => {
  for (const level of ["basic", "detailed", undefined]) {
    assert.equal(collector(level ? { level } : {}).metrics.level, level ?? "normal");
  }
});
