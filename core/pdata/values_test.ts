import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { toBase64 } from "./json_writer.ts";
import type { AnyValue } from "./logs.ts";
import { anyValuesEqual, goJson, valueAsString } from "./values.ts";

// A bytes value is as large as a record allows; spreading it into one call's arguments
// overflows the stack from a few hundred KiB on.
const big = new Uint8Array(1 << 20).map((_, i) => i * 7);
const bytes: AnyValue = { kind: "bytes", value: big };

Deno.test("valueAsString and goJson write a 1 MiB bytes value as base64", () => {
  const expected = toBase64(big);
  assert.equal(expected, Buffer.from(big).toString("base64"));
  assert.equal(valueAsString(bytes), expected);
  assert.equal(goJson(bytes), `"${expected}"`);
});

Deno.test("anyValuesEqual compares deeply, maps without regard to key order", () => {
  const map = (...kv: [string, AnyValue][]): AnyValue => ({
    kind: "kvlist",
    value: kv.map(([key, value]) => ({ key, value })),
  });
  const one: AnyValue = { kind: "int", value: 1n };
  const two: AnyValue = { kind: "string", value: "2" };
  assert.ok(anyValuesEqual(map(["a", one], ["b", two]), map(["b", two], ["a", one])));
  assert.ok(!anyValuesEqual(map(["a", one]), map(["a", one], ["b", two])));
  assert.ok(!anyValuesEqual(one, { kind: "double", value: 1 }));
  assert.ok(
    anyValuesEqual({ kind: "array", value: [one, two] }, { kind: "array", value: [one, two] }),
  );
  assert.ok(
    !anyValuesEqual({ kind: "array", value: [one, two] }, { kind: "array", value: [two, one] }),
  );
});

Deno.test("goJson writes Go's JSON: sorted keys, first of duplicate keys, <>& escaped, NaN refused", () => {
  const v: AnyValue = {
    kind: "kvlist",
    value: [
      { key: "b", value: { kind: "string", value: "<a&b>" } },
      {
        key: "a",
        value: { kind: "array", value: [{ kind: "bool", value: true }, { kind: "empty" }] },
      },
      { key: "b", value: { kind: "int", value: 2n } },
    ],
  };
  assert.equal(goJson(v), '{"a":[true,null],"b":"\\u003ca\\u0026b\\u003e"}');
  assert.throws(() => goJson({ kind: "double", value: NaN }), RangeError);
  assert.equal(valueAsString(v), goJson(v));
  assert.equal(valueAsString({ kind: "double", value: 1.5 }), "1.5");
  assert.equal(valueAsString(undefined), "");
});
