/**
 * UTF-8 helpers for the OTLP codecs: exact encoded length, a hand-written writer for short
 * strings, and a decoder that interns short strings.
 *
 * Lone UTF-16 surrogates are written as U+FFFD (3 bytes), as `TextEncoder` does. Invalid UTF-8
 * is decoded leniently: each bad sequence becomes U+FFFD, as `TextDecoder` does by default.
 *
 * @module
 */

import { Buffer } from "node:buffer";

const encoder = new TextEncoder();
// Longer strings are measured natively (Buffer.byteLength: ~30 ns for 200 characters, a JS
// loop ~370 ns); shorter ones by the loop, which beats the native call's overhead.
const NATIVE_LENGTH_MIN = 32;

/** Returns the number of bytes `s` takes in UTF-8 (lone surrogates count as U+FFFD). */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > NATIVE_LENGTH_MIN) return Buffer.byteLength(s, "utf8");
  let len = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      len += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++; // a pair: 2 units → 4 bytes
      len += 2;
    } else {
      len += 2; // BMP char or lone surrogate (U+FFFD): 1 unit → 3 bytes
    }
  }
  return len;
}

/**
 * Writes `s` as UTF-8 into `buf` at `pos` and returns the position after it. `buf` must have
 * room for `utf8Length(s)` bytes; `ascii` says that length equals `s.length`.
 */
export function writeUtf8(s: string, buf: Uint8Array, pos: number, ascii: boolean): number {
  const n = s.length;
  if (ascii) {
    // A JS loop beats encodeInto's call overhead for short strings, not for long ones.
    if (n > 256) return pos + encoder.encodeInto(s, buf.subarray(pos)).written;
    for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
    return pos;
  }
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          buf[pos++] = 0xf0 | (cp >> 18);
          buf[pos++] = 0x80 | ((cp >> 12) & 0x3f);
          buf[pos++] = 0x80 | ((cp >> 6) & 0x3f);
          buf[pos++] = 0x80 | (cp & 0x3f);
          i++;
          continue;
        }
        c = 0xfffd;
      }
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/**
 * Encodes `s` into `buf` at `pos` with `TextEncoder.encodeInto` and returns the byte count.
 * `buf` must have room for `3 * s.length` bytes. Fast for long strings.
 */
export function encodeUtf8Into(s: string, buf: Uint8Array, pos: number): number {
  return encoder.encodeInto(s, buf.subarray(pos)).written;
}

// Short strings (attribute keys, severity text, resource values) repeat across records, and a
// lookup is cheaper than a native decode; hits return the same string instance.
const INTERN_MAX = 32;
const INTERN_SLOTS = 4096;
const internBytes: (Uint8Array | undefined)[] = new Array(INTERN_SLOTS).fill(undefined);
const internStrings: string[] = new Array(INTERN_SLOTS).fill("");

/** Returns a Buffer over the same memory as `bytes` (no copy), for `decodeUtf8`. */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes `buf[start, end)` as UTF-8, replacing invalid sequences with U+FFFD. `view` is
 * `bufferView(buf)`: a caller decoding many strings from one buffer makes it once.
 */
export function decodeUtf8(
  buf: Uint8Array,
  start: number,
  end: number,
  view: Buffer = bufferView(buf),
): string {
  const n = end - start;
  if (n === 0) return "";
  // Buffer's native UTF-8 slice is ~2× cheaper than TextDecoder.decode (no subarray, no
  // WebIDL checks) and replaces invalid sequences the same way (utf8_test.ts checks both).
  if (n > INTERN_MAX) return view.toString("utf8", start, end);
  // A multiplicative hash over every byte, four at a time.
  let h = n;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    h = Math.imul(
      h ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)),
      0x9e3779b1,
    );
  }
  for (; i < end; i++) h = Math.imul(h ^ buf[i], 0x9e3779b1);
  h ^= h >>> 15;
  const slot = (h >>> 0) & (INTERN_SLOTS - 1);
  const cached = internBytes[slot];
  if (cached !== undefined && cached.length === n) {
    let j = 0;
    while (j < n && cached[j] === buf[start + j]) j++;
    if (j === n) return internStrings[slot];
  }
  const s = view.toString("utf8", start, end);
  internBytes[slot] = buf.slice(start, end);
  internStrings[slot] = s;
  return s;
}
