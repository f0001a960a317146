import assert from "node:assert/strict";
import { ComponentId } from "../../core/component.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { fromPlain } from "../../core/config/node.ts";
import { newLogRecord, newResource, newScope, stringValue } from "../../core/pdata/logs.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { parseDebugConfig } from "./config.ts";
import { Sampler } from "./exporter.ts";
import { debugFactory } from "./mod.ts";
import { detailedText, formatTimestamp, normalText, severityName } from "./text.ts";

const LOGS = {
  resourceLogs: [{
    schemaUrl: "",
    resource: newResource([{ key: "k8s.pod.name", value: stringValue("web-1") }]),
    scopeLogs: [{
      schemaUrl: "",
      scope: newScope(),
      logRecords: [
        newLogRecord({
          timeUnixNano: 1_581_452_773_000_000_789n,
          severityNumber: 9,
          severityText: "Info",
          body: stringValue("This is a log message"),
          attributes: [
            { key: "app", value: stringValue("server") },
            { key: "instance_num", value: { kind: "int", value: 1n } },
          ],
          traceId: Uint8Array.from([8, 4, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
          spanId: Uint8Array.from([1, 2, 4, 8, 0, 0, 0, 0]),
        }),
        newLogRecord({
          body: {
            kind: "kvlist",
            value: [
              { key: "z", value: stringValue("last") },
              { key: "a", value: { kind: "array", value: [{ kind: "double", value: 1.5 }] } },
            ],
          },
        }),
      ],
    }],
  }],
};

Deno.test("detailed text lists every field like upstream's debug exporter", () => {
  assert.equal(
    detailedText(LOGS),
    `ResourceLog #0
Resource SchemaURL: 
Resource attributes:
     -> k8s.pod.name: Str(web-1)
ScopeLogs #0
ScopeLogs SchemaURL: 
InstrumentationScope  
LogRecord #0
ObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC
Timestamp: 2020-02-11 20:26:13.000000789 +0000 UTC
SeverityText: Info
SeverityNumber: Info(9)
Body: Str(This is a log message)
Attributes:
     -> app: Str(server)
     -> instance_num: Int(1)
Trace ID: 08040201000000000000000000000000
Span ID: 0102040800000000
Flags: 0
LogRecord #1
ObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC
Timestamp: 1970-01-01 00:00:00 +0000 UTC
SeverityText: 
SeverityNumber: Unspecified(0)
Body: Map({"a":[1.5],"z":"last"})
Trace ID: 
Span ID: 
Flags: 0
`,
  );
});

Deno.test("normal text prints one line per record", () => {
  assert.equal(
    normalText(LOGS),
    'This is a log message app=server instance_num=1\n{"a":[1.5],"z":"last"}\n',
  );
});

Deno.test("severity names and timestamps follow upstream", () => {
  assert.equal(severityName(9), "Info");
  assert.equal(severityName(10), "Info2");
  assert.equal(severityName(24), "Fatal4");
  assert.equal(severityName(0), "Unspecified");
  assert.equal(formatTimestamp(1_700_000_000_123_000_000n), "2023-11-14 22:13:20.123 +0000 UTC");
});

Deno.test("Sampler logs the first N of each second, then every Mth", () => {
  let now = 0;
  const s = new Sampler(2, 3, () => now);
  const got = Array.from({ length: 8 }, () => s.allow());
  assert.deepEqual(got, [true, true, false, false, true, false, false, true]);
  now = 1000;
  assert.equal(s.allow(), true, "a new second starts over");
});

Deno.test("debug exporter config: defaults as upstream, errors for bad values", () => {
  const issues = new ConfigIssues();
  const cfg = parseDebugConfig(new ConfigReader(fromPlain({}), "exporters::debug", issues));
  assert.deepEqual(cfg, {
    verbosity: "basic",
    samplingInitial: 2,
    samplingThereafter: 1,
    useInternalLogger: true,
  });
  const bad = new ConfigIssues();
  parseDebugConfig(
    new ConfigReader(fromPlain({ verbosity: "loud", output: {} }), "exporters::debug", bad),
  );
  assert.equal(bad.errors.length, 2);
});

Deno.test("debug exporter logs counts and text, and counts sent records", async () => {
  const lines: string[] = [];
  const metrics = new MetricsRegistry();
  const exporter = debugFactory.create({
    id: new ComponentId("debug"),
    kind: "exporter",
    logger: createLogger({ sink: (l) => lines.push(l), encoding: "json" }),
    metrics,
    componentLabels: { exporter: "debug" },
    buildInfo: { command: "t", description: "t", version: "0" },
  }, { verbosity: "normal", samplingInitial: 10, samplingThereafter: 1, useInternalLogger: true });
  await exporter.consume(LOGS, {});
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!);
  assert.equal(first.msg, "Logs");
  assert.equal(first["log records"], 2);
  assert.match(JSON.parse(lines[1]!).msg, /^This is a log message app=server/);
  assert.equal(metrics.value("otelcol_exporter_sent_log_records", { exporter: "debug" }), 2);
});
