import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { toBase64 } from "../../core/pdata/json_writer.ts";
import type { AnyValue } from "../../core/pdata/logs.ts";
import { goJson } from "../ottl/values.ts";
import { valueAsString } from "./match.ts";

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
