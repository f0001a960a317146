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

Deno.test("decodeUtf8() replaces every invalid sequence as TextDecoder does, short and long", () => {
  const dec = new TextDecoder("utf-8", { ignoreBOM: true });
  // Lead, continuation, overlong, surrogate, beyond-U+10FFFF and never-valid bytes.
  const interesting = [
    0x00,
    0x41,
    0x7f,
    0x80,
    0x8f,
    0x90,
    0x9f,
    0xa0,
    0xbf,
    0xc0,
    0xc1,
    0xc2,
    0xdf,
    0xe0,
    0xe1,
    0xed,
    0xef,
    0xf0,
    0xf3,
    0xf4,
    0xf5,
    0xff,
  ];
  const pad = new TextEncoder().encode("p".repeat(40));
  for (const a of interesting) {
    for (const b of interesting) {
      for (const c of interesting) {
        for (const d of [0x41, 0x80, 0xbf, 0xc2, 0xf4, 0xff]) {
          const seq = [a, b, c, d];
          // Short (interned path) at the start of a buffer, and long (Buffer path) with the
          // sequence at the very end, where a truncated multi-byte sequence is cut off.
          const short = new Uint8Array([0x7a, ...seq, 0x7a]);
          assert.equal(decodeUtf8(short, 1, 5), dec.decode(short.subarray(1, 5)), `${seq}`);
          const long = new Uint8Array([...pad, ...seq]);
          assert.equal(decodeUtf8(long, 3, long.length), dec.decode(long.subarray(3)), `${seq}`);
          assert.equal(decodeUtf8(long, 0, 42), dec.decode(long.subarray(0, 42)), `${seq}`);
        }
      }
    }
  }
});

Deno.test("decodeUtf8() reads the given range of a view into a larger buffer", () => {
  const backing = new TextEncoder().encode(`xx${"é".repeat(20)}yy${"a".repeat(50)}zz`);
  const view = backing.subarray(2, backing.length - 2);
  assert.equal(decodeUtf8(view, 0, 40), "é".repeat(20));
  assert.equal(decodeUtf8(view, 40, 92), `yy${"a".repeat(50)}`);
  assert.equal(decodeUtf8(view, 42, 44), "aa");
});
