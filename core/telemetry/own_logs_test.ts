import assert from "node:assert/strict";
import { BUILTIN_FACTORIES } from "../../components.ts";
import { Collector, loadCollectorConfig } from "../service/collector.ts";
import { startOtlpSink } from "../../tests/fakes/otlp_sink.ts";
import { TEST_FACTORIES } from "../../tests/fakes/components.ts";
import type { AnyValue } from "../pdata/logs.ts";
import { formatIssue } from "../config/reader.ts";

/** A collector whose own logs go to `endpoint` (and to `lines`), with a resource. */
async function collectorShippingTo(endpoint: string, lines: string[], extra = "") {
  const yaml = `
exporters:
  debug: {}
service:
  telemetry:
    metrics: {level: none}
    resource:
      k8s.node.name: node-1
      service.name: otelcol-deno-agent
    logs:
      level: info
      processors:
        - batch:
            schedule_delay: 50
            exporter:
              otlp:
                protocol: http/protobuf
                endpoint: ${endpoint}
                headers: [{name: X-Tenant, value: t1}]
${extra}
  pipelines:
    logs: {receivers: [testgen], exporters: [debug]}
receivers:
  testgen: {batches: 1}
`;
  const { config, issues } = await loadCollectorConfig({ uris: [`yaml:${yaml}`] }, [
    ...BUILTIN_FACTORIES,
    ...TEST_FACTORIES,
  ]);
  assert.ok(config, issues.map(formatIssue).join("\n"));
  return new Collector(config, { logSink: (l) => lines.push(l) });
}

const str = (v: AnyValue | undefined): string | undefined =>
  v?.kind === "string" ? v.value : undefined;

Deno.test("own logs: shipped over OTLP/HTTP protobuf with the telemetry resource and headers", async () => {
  const sink = await startOtlpSink();
  const lines: string[] = [];
  try {
    const c = await collectorShippingTo(`${sink.url}/v1/logs`, lines);
    await c.start();
    c.logger.warn("disk almost full", { path: "/var/lib/x", free: 3 });
    await c.shutdown();
    const records = sink.requests.flatMap((r) =>
      r.logs!.resourceLogs.flatMap((rl) =>
        rl.scopeLogs.flatMap((sl) => sl.logRecords.map((lr) => ({ rl, sl, lr })))
      )
    );
    const warn = records.find((r) => str(r.lr.body) === "disk almost full");
    assert.ok(warn, `received: ${records.map((r) => str(r.lr.body)).join(" | ")}`);
    assert.equal(warn.lr.severityText, "WARN");
    const attr = (list: { key: string; value: AnyValue }[], k: string) =>
      list.find((a) => a.key === k)?.value;
    assert.equal(str(attr(warn.lr.attributes, "path")), "/var/lib/x");
    assert.equal(str(attr(warn.rl.resource.attributes, "k8s.node.name")), "node-1");
    assert.equal(str(attr(warn.rl.resource.attributes, "service.name")), "otelcol-deno-agent");
    assert.ok(str(attr(warn.rl.resource.attributes, "service.instance.id")));
    assert.equal(sink.requests[0]!.headers["x-tenant"], "t1");
    assert.equal(sink.requests[0]!.headers["content-type"], "application/x-protobuf");
    // Everything still went to the local log too.
    assert.ok(lines.some((l) => l.includes("disk almost full")));
    assert.ok(
      records.some((r) =>
        str(r.lr.body) === "Shutdown requested; stopping receivers and draining pipelines"
      ),
    );
  } finally {
    await sink.stop();
  }
});

Deno.test("own logs: export failures are logged locally only, never looped back into OTLP", async () => {
  const sink = await startOtlpSink({
    defaultReply: { kind: "status", status: 400, message: "rejected" },
  });
  const lines: string[] = [];
  try {
    const c = await collectorShippingTo(`${sink.url}/v1/logs`, lines);
    await c.start();
    c.logger.info("one line");
    // Several schedule delays (50 ms) apart: a loop would keep sending.
    await new Promise((r) => setTimeout(r, 500));
    const sent = sink.requests.length;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sink.requests.length, sent, "no more requests once the lines were sent");
    await c.shutdown();
    assert.ok(lines.some((l) => l.includes("Own logs exporter")), "the failure is logged locally");
    const bodies = sink.requests.flatMap((r) =>
      r.logs!.resourceLogs.flatMap((rl) =>
        rl.scopeLogs.flatMap((sl) => sl.logRecords.map((lr) => str(lr.body) ?? ""))
      )
    );
    assert.ok(!bodies.some((b) => b.includes("Own logs exporter")), "failures are not exported");
  } finally {
    await sink.stop();
  }
});

Deno.test("own logs: an unreachable endpoint never holds emitting or shutdown", async () => {
  const sink = await startOtlpSink();
  const url = `${sink.url}/v1/logs`;
  await sink.stop(); // nothing listens there any more
  const lines: string[] = [];
  const c = await collectorShippingTo(url, lines);
  await c.start();
  for (let i = 0; i < 5_000; i++) c.logger.info(`line ${i}`); // more than the queue holds
  await c.shutdown(); // bounded: returns although nothing could be sent
  assert.equal(lines.filter((l) => /\bline \d+$/.test(l)).length, 5_000);
  assert.ok(lines.some((l) => l.includes("Own logs exporter: not everything was sent")));
});

Deno.test("own logs: bad processor config is rejected with its path", async () => {
  const { issues } = await loadCollectorConfig(
    {
      uris: [
        `yaml:
exporters: {debug: {}}
receivers: {filelog: {include: [/x]}}
service:
  telemetry:
    logs:
      processors:
        - periodic: {}
        - batch: {exporter: {otlp: {protocol: grpc, endpoint: "http://x:4317"}}}
        - simple: {exporter: {otlp: {endpoint: "not a url"}}}
  pipelines: {logs: {receivers: [filelog], exporters: [debug]}}
`,
      ],
    },
    BUILTIN_FACTORIES,
  );
  const text = issues.filter((i) => i.severity === "error").map(formatIssue).join("\n");
  assert.match(
    text,
    /service::telemetry::logs::processors::0: Each processor is one of "batch" or "simple"/,
  );
  assert.match(
    text,
    /processors::1::batch::exporter::otlp::protocol: Only "http\/protobuf" and "http\/json"/,
  );
  assert.match(text, /processors::2::simple::exporter::otlp::endpoint: Invalid URL "not a url"/);
});
