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

Deno.test("histograms render cumulative buckets, +Inf, _sum and _count", () => {
  const m = new MetricsRegistry();
  const h = m.histogram("otelcol_processor_batch_batch_send_size", "Units.", [10, 100]);
  for (const v of [1, 10, 11, 100, 5000]) h.record(v, { processor: "batch" });
  const text = m.renderPrometheus();
  assert.match(text, /# TYPE otelcol_processor_batch_batch_send_size histogram/);
  const line = (le: string, n: number) =>
    `otelcol_processor_batch_batch_send_size_bucket{le="${le}",processor="batch"} ${n}\n`;
  assert.ok(text.includes(line("10", 2) + line("100", 4) + line("+Inf", 5)), text);
  assert.match(text, /otelcol_processor_batch_batch_send_size_sum\{processor="batch"\} 5122\n/);
  assert.match(text, /otelcol_processor_batch_batch_send_size_count\{processor="batch"\} 5\n/);
  assert.deepEqual(
    m.histogramValue("otelcol_processor_batch_batch_send_size", { processor: "batch" }),
    {
      count: 5,
      sum: 5122,
      buckets: [[10, 2], [100, 4], [Infinity, 5]],
    },
  );
  assert.throws(() => m.gauge("otelcol_processor_batch_batch_send_size", "x"), /as a histogram/);
});
