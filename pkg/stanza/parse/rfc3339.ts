/**
 * Exact RFC 3339 (nano) timestamp parsing to Unix nanoseconds as bigint, fast for the
 * container path: the seconds part is cached (and the last one compared first, without making
 * a string), so a line costs one small BigInt addition.
 *
 * @module
 */

const cache = new Map<string, bigint>();
/** The last second parsed: consecutive lines mostly share it. */
let last: { seconds: string; zone: string; base: bigint } | undefined;

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Parses `2006-01-02T15:04:05.999999999Z07:00` (fraction optional, `Z` or `±hh:mm`, `T` or
 * space) into Unix nanoseconds; `undefined` when the text is not such a timestamp.
 */
export function parseRfc3339Nano(s: string): bigint | undefined {
  if (s.length < 20) return undefined;
  let i = 19;
  let nanos = 0;
  if (s.charCodeAt(i) === 0x2e || s.charCodeAt(i) === 0x2c) {
    i++;
    let n = 0;
    let scale = 100_000_000;
    while (i < s.length) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (n < 9) nanos += c * scale;
      scale /= 10;
      n++;
      i++;
    }
    if (n === 0) return undefined;
  }
  let base: bigint | undefined;
  if (
    last !== undefined && s.length - i === last.zone.length && s.startsWith(last.seconds) &&
    s.endsWith(last.zone)
  ) {
    base = last.base; // the same second as the line before: no string is made
  } else {
    const zone = s.slice(i);
    const seconds = s.slice(0, 19);
    const key = seconds + zone;
    base = cache.get(key);
    if (base === undefined) {
      const computed = secondsBase(s, zone);
      if (computed === undefined) return undefined;
      base = computed;
      if (cache.size >= 4096) cache.clear();
      cache.set(key, base);
    }
    last = { seconds, zone, base };
  }
  return nanos === 0 ? base : base + BigInt(nanos);
}

/** The seconds and zone of `last` as bytes (`lastBytesOf` says which `last` they belong to). */
let lastBytes = new Uint8Array(0);
let lastBytesOf: typeof last;
/** Longer text is never an RFC 3339 timestamp this parser reads from bytes. */
const MAX_BYTES = 64;

/**
 * {@linkcode parseRfc3339Nano} of the ASCII text `b[start, end)`, read from the bytes: a
 * timestamp in the same second as the one before makes no string. `undefined` also for text
 * that is not ASCII or longer than 64 bytes (the caller decodes it and parses the string then).
 */
export function parseRfc3339NanoBytes(
  b: Uint8Array,
  start: number,
  end: number,
): bigint | undefined {
  if (end - start < 20 || end - start > MAX_BYTES) return undefined;
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
  const l = last;
  if (
    l !== undefined && lastBytesOf === l && zone === l.zone.length &&
    sameBytes(b, start, lastBytes, 0, 19) && sameBytes(b, i, lastBytes, 19, zone)
  ) {
    return nanos === 0 ? l.base : l.base + BigInt(nanos);
  }
  for (let j = start; j < end; j++) if (b[j]! > 0x7f) return undefined;
  const ts = parseRfc3339Nano(String.fromCharCode(...b.subarray(start, end)));
  if (ts !== undefined) {
    lastBytes = new Uint8Array(19 + zone);
    lastBytes.set(b.subarray(start, start + 19));
    lastBytes.set(b.subarray(i, end), 19);
    lastBytesOf = last;
  }
  return ts;
}

function sameBytes(a: Uint8Array, from: number, b: Uint8Array, bFrom: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[from + k] !== b[bFrom + k]) return false;
  return true;
}

function secondsBase(s: string, zone: string): bigint | undefined {
  const y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
  const t = s[10];
  if (
    s[4] !== "-" || s[7] !== "-" || (t !== "T" && t !== "t" && t !== " ") || s[13] !== ":" ||
    s[16] !== ":" || y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
    mi < 0 || mi > 59 || se < 0 || se > 60
  ) return undefined;
  let offsetMin = 0;
  if (zone === "Z" || zone === "z") offsetMin = 0;
  else if (/^[+-]\d{2}:\d{2}$/.test(zone)) {
    offsetMin = (zone[0] === "-" ? -1 : 1) * (digits(zone, 1, 2) * 60 + digits(zone, 4, 2));
  } else return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, se) - offsetMin * 60_000;
  return BigInt(ms) * 1_000_000n;
}
