import assert from "node:assert/strict";
import { newEntry, type Value } from "../entry.ts";
import { parseOperatorList, testPipeline } from "../testing.ts";

/** Maps each value with a severity_parser on attributes.s; returns [number, text] pairs. */
function severities(
  sev: Record<string, unknown>,
  values: Value[],
): { got: Array<[number, string]>; errors: number } {
  const { p, out, errors } = testPipeline([
    { type: "severity_parser", parse_from: "attributes.s", ...sev },
  ]);
  for (const v of values) {
    const e = newEntry("x", 1n);
    e.attributes.s = v;
    p.process(e);
  }
  return { got: out.map((e) => [e.severity, e.severityText]), errors: errors.length };
}

Deno.test("the default severity preset has upstream's aliases: warning*, err*, and the numbers 1-24", () => {
  const { got, errors } = severities({}, [
    "WARNING",
    "warning3",
    "Err",
    "err4",
    "13",
    21,
    24n,
    "info",
    "25",
    "critical",
  ]);
  assert.equal(errors, 0);
  assert.deepEqual(got, [
    [13, "WARNING"],
    [15, "warning3"],
    [17, "Err"],
    [20, "err4"],
    [13, "13"],
    [21, "21"],
    [24, "24"],
    [9, "info"],
    [0, "25"],
    [0, "critical"],
  ]);
});

Deno.test("presets otel and aliases are the level names and numbers only; none maps nothing", () => {
  for (const preset of ["otel", "aliases"]) {
    const { got } = severities({ preset }, ["warning", "err", "9", "error2", "WARN"]);
    assert.deepEqual(got.map(([n]) => n), [0, 0, 9, 18, 13], preset);
  }
  const { got } = severities({ preset: "none", mapping: { info: "ok" } }, ["info", "9", "OK"]);
  assert.deepEqual(got.map(([n]) => n), [0, 0, 9]);
});

Deno.test("an unknown preset is a config error that names the choices", () => {
  const { errors } = parseOperatorList([{ type: "severity_parser", preset: "syslog" }]);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /preset/);
  assert.match(errors[0]!, /otel/);
});

Deno.test("the user's mapping wins over the preset's values; overwrite_text only for mapped values", () => {
  const { got } = severities({
    mapping: { error: ["13", "warning"], fatal: { min: 14, max: 16 } },
    overwrite_text: true,
  }, ["13", "warning", 15, "15", "warn", "nothing"]);
  assert.deepEqual(got, [
    [17, "ERROR"],
    [17, "ERROR"],
    [21, "FATAL"],
    [21, "FATAL"],
    [13, "WARN"],
    [0, "nothing"],
  ]);
});

Deno.test("a fractional or non-scalar severity follows on_error, as upstream", () => {
  const { got, errors } = severities({ on_error: "drop_quiet" }, [13.5, true, { a: 1 }, 13]);
  assert.deepEqual(got, [[13, "13"]]);
  assert.equal(errors, 3);
});
