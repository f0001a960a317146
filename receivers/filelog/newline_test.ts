import assert from "node:assert/strict";
import { NewlineScanner } from "./newline.ts";

/** The reference: the first 0x0a in d[from, end), or -1. */
function expected(d: Uint8Array, from: number, end: number): number {
  const i = d.indexOf(0x0a, from);
  return i >= 0 && i < end ? i : -1;
}

Deno.test("NewlineScanner finds what indexOf finds, at any alignment and bound", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const scanner = new NewlineScanner();
  const buffer = new ArrayBuffer(4096);
  for (let round = 0; round < 300; round++) {
    const all = new Uint8Array(buffer);
    // Bytes near 0x0a too (0x0b, 0x8a, 0x09), where a sloppy word test would go wrong.
    for (let i = 0; i < all.length; i++) {
      const r = random();
      all[i] = r < 0.01 ? 0x0a : r < 0.03 ? [0x0b, 0x8a, 0x09, 0x00, 0xff][i % 5]! : 32 + (i % 90);
    }
    const offset = Math.floor(random() * 8);
    const d = new Uint8Array(buffer, offset, all.length - offset - Math.floor(random() * 8));
    for (let k = 0; k < 20; k++) {
      const from = Math.floor(random() * d.length);
      const end = from + Math.floor(random() * (d.length - from + 1));
      assert.equal(scanner.find(d, from, end), expected(d, from, end), `${offset} ${from} ${end}`);
    }
  }
  const none = new Uint8Array(100).fill(0x41);
  assert.equal(scanner.find(none, 0, 100), -1);
  assert.equal(scanner.find(new Uint8Array([0x0a]), 0, 1), 0);
  assert.equal(scanner.find(new Uint8Array([0x0a]), 0, 0), -1);
});
