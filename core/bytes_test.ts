import assert from "node:assert/strict";
import { concatBytes, totalLength } from "./bytes.ts";

Deno.test("concatBytes joins chunks in order; one chunk comes back as it is; none gives empty", () => {
  const a = new Uint8Array([1, 2]);
  assert.deepEqual(
    concatBytes([a, new Uint8Array(0), new Uint8Array([3])]),
    new Uint8Array([1, 2, 3]),
  );
  assert.equal(concatBytes([a]), a);
  assert.deepEqual(concatBytes([]), new Uint8Array(0));
});

Deno.test("totalLength adds the chunks' lengths", () => {
  assert.equal(totalLength([new Uint8Array(2), new Uint8Array(0), new Uint8Array(5)]), 7);
  assert.equal(totalLength([]), 0);
});
