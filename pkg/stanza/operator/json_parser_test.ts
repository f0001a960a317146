import assert from "node:assert/strict";
import { toAnyValue } from "../adapter/convert.ts";
import { type Entry, newEntry } from "../entry.ts";
import { testPipeline } from "../testing.ts";

function parse(op: Record<string, unknown>, line: string): { out: Entry[]; errors: number } {
  const { p, out, errors } = testPipeline([{ type: "json_parser", ...op }]);
  p.process(newEntry(line, 1n));
  return { out, errors: errors.length };
}

const LINE =
  '{"n":1,"neg":-42,"zero":-0,"big":9007199254740993,"max":9223372036854775807,"over":9223372036854775808,' +
  '"f":1.5,"e":1e3,"whole":2.0,"s":"7","nested":{"a":[3,4.25,{"b":5}]}}';

Deno.test("json_parser parse_ints: integers become exact int64 values, other numbers stay doubles", () => {
  const { out, errors } = parse({ parse_ints: true }, LINE);
  assert.equal(errors, 0);
  const a = out[0]!.attributes;
  assert.equal(a.n, 1n);
  assert.equal(a.neg, -42n);
  assert.equal(a.zero, 0n);
  assert.equal(a.big, 9007199254740993n); // beyond 2^53: exact
  assert.equal(a.max, 9223372036854775807n);
  // Beyond int64 upstream falls back to a double, and so do fractions and exponents.
  assert.equal(a.over, 9223372036854775808);
  assert.equal(a.f, 1.5);
  assert.equal(a.e, 1000);
  assert.equal(a.whole, 2);
  assert.equal(a.s, "7");
  assert.deepEqual(a.nested, { a: [3n, 4.25, { b: 5n }] });
  // ...and reach OTLP as int and double AnyValues.
  assert.deepEqual(toAnyValue(a.big!), { kind: "int", value: 9007199254740993n });
  assert.deepEqual(toAnyValue(a.f!), { kind: "double", value: 1.5 });
});

Deno.test("json_parser without parse_ints keeps every number a double, as upstream", () => {
  for (const op of [{}, { parse_ints: false }]) {
    const a = parse(op, LINE).out[0]!.attributes;
    assert.equal(a.n, 1);
    assert.equal(a.big, 9007199254740992); // rounded, as a float64
    assert.deepEqual(toAnyValue(a.n!), { kind: "double", value: 1 });
  }
});
