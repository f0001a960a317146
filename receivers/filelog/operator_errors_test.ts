import assert from "node:assert/strict";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { attrs, plainHost, polls, receiver, Sink, tempDir } from "./test_helpers.ts";

Deno.test("an operator error on one line loses nothing: the line is kept (on_error send), later lines and appends are read", async () => {
  const dir = await tempDir();
  const path = `${dir}/a.log`;
  await Deno.writeTextFile(path, '{"p":"ok","n":1}\n{"p":"(bad","n":2}\n{"p":"ok","n":3}\n');
  const sink = new Sink();
  const m = new MetricsRegistry();
  const r = receiver(
    {
      include: [path],
      start_at: "beginning",
      poll_interval: "1h",
      operators: [
        { type: "json_parser" },
        { type: "add", id: "m", field: "attributes.m", value: 'EXPR("ok" matches attributes.p)' },
      ],
    },
    sink,
    m,
  );
  try {
    await r.start(plainHost);
    await polls(r, 2);
    assert.deepEqual(sink.records().map((x) => attrs(x.record).n), [1, 2, 3]);
    assert.deepEqual(sink.records().map((x) => attrs(x.record).m), [true, undefined, true]);
    const labels = { receiver: "filelog", operator_id: "m" };
    assert.equal(m.value("otelcol_filelog_operator_errors", labels), 1);
    await Deno.writeTextFile(path, '{"p":"ok","n":4}\n', { append: true });
    await polls(r);
    assert.deepEqual(sink.records().map((x) => attrs(x.record).n), [1, 2, 3, 4]);
  } finally {
    await r.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
