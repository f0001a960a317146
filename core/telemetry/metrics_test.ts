import assert from "node:assert/strict";
import { MetricsRegistry } from "./metrics.ts";

Deno.test("renderPrometheus() writes counters with _total, gauges as they are, labels sorted", () => {
  const m = new MetricsRegistry();
  const c = m.counter("otelcol_receiver_accepted_log_records", "Accepted.");
  c.add(3, { receiver: "filelog", transport: "" });
  c.add(2, { transport: "", receiver: "filelog" });
  m.gauge("otelcol_exporter_queue_size", "Queue size.").set(7, {
    exporter: "otlp_http",
    data_type: "logs",
  });
  const text = m.renderPrometheus();
  assert.match(text, /# TYPE otelcol_receiver_accepted_log_records_total counter/);
  assert.match(
    text,
    /otelcol_receiver_accepted_log_records_total\{receiver="filelog",transport=""\} 5/,
  );
  assert.match(text, /otelcol_exporter_queue_size\{data_type="logs",exporter="otlp_http"\} 7/);
});

Deno.test("label values are escaped and a name cannot change type", () => {
  const m = new MetricsRegistry();
  m.gauge("g", "G.").set(1, { v: 'a"b\\c\nd' });
  assert.match(m.renderPrometheus(), /g\{v="a\\"b\\\\c\\nd"\} 1/);
  assert.throws(() => m.counter("g", "again"), /already registered as a gauge/);
});
