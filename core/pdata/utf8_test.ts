import assert from "node:assert/strict";
import { decodeUtf8, encodeUtf8Into, utf8Length, writeUtf8 } from "./utf8.ts";
import { Prng } from "./testing.ts";

function randomString(rng: Prng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rng.int(10);
    // Includes lone surrogates, which must become U+FFFD as with TextEncoder.
    s += r < 5
      ? String.fromCharCode(rng.int(0x80))
      : r < 7
      ? String.fromCharCode(0x80 + rng.int(0x780))
      : r < 9
      ? String.fromCharCode(0x800 + rng.int(0xf800))
      : String.fromCodePoint(0x10000 + rng.int(0x100000));
  }
  return s;
}

Deno.test("utf8Length() and writeUtf8() match TextEncoder, lone surrogates included", () => {
  const rng = new Prng(1);
  const enc = new TextEncoder();
  for (let i = 0; i < 2000; i++) {
    const s = i === 0 ? "\ud800" : i === 1 ? "a\udc00\ud83d" : randomString(rng, rng.int(60));
    const expected = enc.encode(s);
    assert.equal(utf8Length(s), expected.length, JSON.stringify(s));
    const buf = new Uint8Array(expected.length + 4);
    const end = writeUtf8(s, buf, 2, expected.length === s.length);
    assert.equal(end, 2 + expected.length);
    assert.deepStrictEqual(buf.subarray(2, end), expected);
    const big = new Uint8Array(s.length * 3 + 1);
    assert.equal(encodeUtf8Into(s, big, 1), expected.length);
  }
  const ascii = "x".repeat(300); // the encodeInto branch of writeUtf8
  const buf = new Uint8Array(301);
  assert.equal(writeUtf8(ascii, buf, 1, true), 301);
  assert.equal(new TextDecoder().decode(buf.subarray(1)), ascii);
});

Deno.test("decodeUtf8() matches a lenient TextDecoder on random and invalid bytes", () => {
  const rng = new Prng(2);
  const dec = new TextDecoder("utf-8", { ignoreBOM: true });
  for (let i = 0; i < 5000; i++) {
    // Short strings from a small alphabet repeat, exercising interning hits and collisions.
    const n = rng.chance(0.8) ? rng.int(33) : 33 + rng.int(100);
    const b = new Uint8Array(n + 2);
    for (let j = 2; j < n + 2; j++) {
      b[j] = rng.chance(0.9)
        ? 0x61 + rng.int(4)
        : rng.pick([0xc3, 0xa9, 0xff, 0xe2, 0x82, 0xef, 0xbb, 0xbf]);
    }
    assert.equal(decodeUtf8(b, 2, n + 2), dec.decode(b.subarray(2)), `bytes ${b.subarray(2)}`);
  }
  assert.equal(decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]), 0, 4), "\ufeffA");
});
