/**
 * Exact RFC 3339 (nano) timestamp parsing to Unix nanoseconds as bigint, fast for the
 * container path: the timestamp is read from its bytes (a string is encoded first), the
 * seconds part is cached, and the last one is compared first, so a line in the same second as
 * the one before costs one small BigInt addition.
 *
 * @module
 */

const cache = new Map<string, bigint>();
/** The last second parsed (19 bytes of date and time, then the zone): lines mostly share it. */
let lastKey = new Uint8Array(0);
let lastBase = 0n;
const encoder = new TextEncoder();
/** Where strings are encoded to be parsed (grown for a longer one). */
let scratch = new Uint8Array(64);

/**
 * Parses `2006-01-02T15:04:05.999999999Z07:00` (fraction optional, `Z` or `±hh:mm`, `T` or
 * space) into Unix nanoseconds; `undefined` when the text is not such a timestamp.
 */
export function parseRfc3339Nano(s: string): bigint | undefined {
  if (s.length < 20) return undefined;
  if (3 * s.length > scratch.length) scratch = new Uint8Array(3 * s.length);
  return parseRfc3339NanoBytes(scratch, 0, encoder.encodeInto(s, scratch).written);
}

/** {@linkcode parseRfc3339Nano} of the UTF-8 text `b[start, end)`, read without a string. */
export function parseRfc3339NanoBytes(
  b: Uint8Array,
  start: number,
  end: number,
): bigint | undefined {
  if (end - start < 20) return undefined;
  let i = start + 19;
  let nanos = 0;
  if (b[i] === 0x2e || b[i] === 0x2c) {
    i++;
    let n = 0;
    let scale = 100_000_000;
    while (i < end) {
      const c = b[i]! - 48;
      if (c < 0 || c > 9) break;
      if (n < 9) nanos += c * scale;
      scale /= 10;
      n++;
      i++;
    }
    if (n === 0) return undefined;
  }
  const zone = end - i;
  if (zone !== 1 && zone !== 6) return undefined; // `Z` or `±hh:mm`
  let base: bigint | undefined;
  if (zone + 19 === lastKey.length && same(b, start, 0, 19) && same(b, i, 19, zone)) {
    base = lastBase; // the same second as the line before: no string is made
  } else {
    const key = String.fromCharCode(...b.subarray(start, start + 19), ...b.subarray(i, end));
    base = cache.get(key);
    if (base === undefined) {
      base = secondsBase(b, start, i, end);
      if (base === undefined) return undefined;
      if (cache.size >= 4096) cache.clear();
      cache.set(key, base);
    }
    lastKey = new Uint8Array(19 + zone);
    lastKey.set(b.subarray(start, start + 19));
    lastKey.set(b.subarray(i, end), 19);
    lastBase = base;
  }
  return nanos === 0 ? base : base + BigInt(nanos);
}

/** Whether `b[from, from + n)` equals `lastKey[at, at + n)`. */
function same(b: Uint8Array, from: number, at: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (b[from + k] !== lastKey[at + k]) return false;
  return true;
}

function digits(b: Uint8Array, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Unix nanoseconds of the whole second `b[s, s + 19)` in the zone `b[zone, end)`. */
function secondsBase(b: Uint8Array, s: number, zone: number, end: number): bigint | undefined {
  const y = digits(b, s, 4), mo = digits(b, s + 5, 2), d = digits(b, s + 8, 2);
  const h = digits(b, s + 11, 2), mi = digits(b, s + 14, 2), se = digits(b, s + 17, 2);
  const t = b[s + 10];
  if (
    b[s + 4] !== 0x2d || b[s + 7] !== 0x2d || (t !== 0x54 && t !== 0x74 && t !== 0x20) ||
    b[s + 13] !== 0x3a || b[s + 16] !== 0x3a || y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
    h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60
  ) return undefined;
  let offsetMin = 0;
  if (end - zone === 1) {
    if (b[zone] !== 0x5a && b[zone] !== 0x7a) return undefined; // Z or z
  } else {
    const sign = b[zone] === 0x2d ? -1 : b[zone] === 0x2b ? 1 : 0;
    const oh = digits(b, zone + 1, 2), om = digits(b, zone + 4, 2);
    if (sign === 0 || oh < 0 || om < 0 || b[zone + 3] !== 0x3a) return undefined;
    offsetMin = sign * (oh * 60 + om);
  }
  const ms = Date.UTC(y, mo - 1, d, h, mi, se) - offsetMin * 60_000;
  return BigInt(ms) * 1_000_000n;
}
