import assert from "node:assert/strict";
import { type Entry, newEntry, type Value } from "../entry.ts";
import { testPipeline } from "../testing.ts";

function run(
  ops: Array<Record<string, unknown>>,
  bodies: Value[],
): { out: Entry[]; errors: number } {
  const { p, out, errors } = testPipeline(ops);
  for (const b of bodies) {
    const e = newEntry(b, 1n);
    e.attributes["log.file.path"] = "/var/log/app.log";
    p.process(e);
  }
  p.flushAll();
  return { out, errors: errors.length };
}

Deno.test("json_parser parses into attributes, with timestamp and severity blocks", () => {
  const { out } = run([{
    type: "json_parser",
    timestamp: { parse_from: "attributes.ts", layout_type: "epoch", layout: "s.ns" },
    severity: { parse_from: "attributes.level" },
  }], ['{"msg":"hi","level":"WARN","ts":"1714564800.000000123","n":2}']);
  assert.equal(out[0]!.attributes.msg, "hi");
  assert.equal(out[0]!.attributes.n, 2);
  assert.equal(out[0]!.timestamp, 1714564800000000123n);
  assert.equal(out[0]!.severity, 13);
  assert.equal(out[0]!.severityText, "WARN");
});

Deno.test("json_parser with parse_to body replaces the body; bad JSON follows on_error", () => {
  const { out, errors } = run([{ type: "json_parser", parse_to: "body" }], [
    '{"a":{"b":1}}',
    "{oops",
  ]);
  assert.deepEqual(out[0]!.body, { a: { b: 1 } });
  assert.equal(out[1]!.body, "{oops");
  assert.equal(errors, 1);
});

Deno.test("regex_parser accepts Go named groups and caches matches", () => {
  const { out, errors } = run([{
    type: "regex_parser",
    regex: "^(?P<level>\\w+) (?P<msg>.*)$",
    cache: { size: 10 },
  }], ["INFO started", "INFO started", "???"]);
  assert.deepEqual(out[0]!.attributes.level, "INFO");
  assert.deepEqual(out[1]!.attributes.msg, "started");
  assert.equal(errors, 1);
});

Deno.test("regex_parser on log.file.path plus move into resource (the pre-container Helm chain)", () => {
  const { out } = run([
    {
      type: "regex_parser",
      parse_from: 'attributes["log.file.path"]',
      regex: "^/var/log/(?P<name>[^.]+)\\.log$",
    },
    { type: "move", from: "attributes.name", to: 'resource["service.name"]' },
    { type: "copy", from: "body", to: "attributes.original" },
    { type: "add", field: "attributes.count", value: 3 },
    {
      type: "add",
      id: "add2",
      field: "attributes.expr",
      value: 'EXPR(resource["service.name"] + "-x")',
    },
    { type: "remove", field: 'attributes["log.file.path"]' },
  ], ["line"]);
  assert.deepEqual(out[0]!.resource, { "service.name": "app" });
  assert.deepEqual(out[0]!.attributes, { original: "line", count: 3n, expr: "app-x" });
});

Deno.test("retain, flatten and key_value_parser", () => {
  const { out } = run([
    { type: "key_value_parser", parse_to: "body" },
    { type: "retain", fields: ["body.a", "body.nested"] },
  ], ['a=1 b="two words" nested=x']);
  assert.deepEqual(out[0]!.body, { a: "1", nested: "x" });
  const f = run([{ type: "json_parser", parse_to: "body" }, {
    type: "flatten",
    field: "body.inner",
  }], [
    '{"inner":{"x":1,"y":2},"z":3}',
  ]);
  assert.deepEqual(f.out[0]!.body, { z: 3, x: 1, y: 2 });
});

Deno.test("severity_parser maps lists, ranges and status families", () => {
  const { out } = run([
    { type: "json_parser" },
    {
      type: "severity_parser",
      parse_from: "attributes.s",
      mapping: { error: ["oops", { min: 500, max: 599 }], info: "2xx", warn: "w" },
      overwrite_text: true,
    },
  ], ['{"s":"OOPS"}', '{"s":503}', '{"s":"204"}', '{"s":"W"}', '{"s":"nothing"}']);
  assert.deepEqual(out.map((e) => e.severity), [17, 17, 9, 13, 0]);
  assert.deepEqual(out.map((e) => e.severityText), ["ERROR", "ERROR", "INFO", "WARN", "nothing"]);
});

Deno.test("time_parser handles strptime, gotime and locations exactly", () => {
  const { out, errors } = run([
    { type: "json_parser" },
    { type: "time_parser", parse_from: "attributes.a", layout: "%Y-%m-%d %H:%M:%S.%f %z" },
    {
      type: "time_parser",
      id: "t2",
      parse_from: "attributes.b",
      layout_type: "gotime",
      layout: "Jan _2 15:04:05.000 2006",
      location: "America/New_York",
    },
  ], ['{"a":"2024-05-01 12:00:00.123456 +0200","b":"Jan  2 10:00:00.250 2024"}']);
  assert.equal(errors, 0);
  // b runs last and overwrites: 10:00 EST = 15:00 UTC.
  assert.equal(
    out[0]!.timestamp,
    BigInt(Date.UTC(2024, 0, 2, 15, 0, 0)) * 1_000_000n + 250_000_000n,
  );
  const a = run([{ type: "json_parser" }, {
    type: "time_parser",
    parse_from: "attributes.a",
    layout: "%Y-%m-%d %H:%M:%S.%f %z",
  }], [
    '{"a":"2024-05-01 12:00:00.123456 +0200"}',
  ]);
  assert.equal(
    a.out[0]!.timestamp,
    BigInt(Date.UTC(2024, 4, 1, 10, 0, 0)) * 1_000_000n + 123_456_000n,
  );
});

Deno.test("recombine joins lines until is_first_entry and keeps the oldest position held", () => {
  const { out } = run([{
    type: "recombine",
    combine_field: "body",
    is_first_entry: 'body matches "^\\\\d{4}-"',
  }], ["2024-01-01 start", "  at a", "  at b", "2024-01-01 next"]);
  assert.deepEqual(out.map((e) => e.body), ["2024-01-01 start\n  at a\n  at b", "2024-01-01 next"]);
});

Deno.test("router routes by expression, default catches the rest, filter drops", () => {
  const { out } = run([
    {
      type: "router",
      routes: [{ expr: 'body startsWith "{"', output: "json", attributes: { format: "json" } }],
      default: "plain",
    },
    { type: "json_parser", id: "json", output: "end" },
    { type: "add", id: "plain", field: "attributes.format", value: "text", output: "end" },
    { type: "filter", id: "end", expr: 'attributes.format == "text" and body contains "debug"' },
  ], ['{"a":1}', "hello", "debug noise"]);
  assert.deepEqual(out.map((e) => e.attributes.format), ["json", "text"]);
  assert.equal(out[0]!.attributes.a, 1);
});

Deno.test("if skips an operator and on_error drop_quiet drops", () => {
  const { out, errors } = run([
    { type: "json_parser", if: 'body matches "^\\\\{"', on_error: "drop_quiet" },
  ], ["plain", "{bad", '{"ok":true}']);
  assert.deepEqual(out.map((e) => e.body), ["plain", '{"ok":true}']);
  assert.equal(errors, 1);
});
