/**
 * Helpers on attribute and body values shared by the OTTL conditions, the include/exclude
 * match blocks and the attributes processor: pdata's deep equality, Go's JSON of a value,
 * and pdata's `AsString()`.
 *
 * @module
 */

import { toBase64 } from "./json_writer.ts";
import type { AnyValue, KeyValue } from "./logs.ts";

/** Byte-wise order of two byte strings (negative, zero or positive, as Go's `bytes.Compare`). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function mapsEqual(a: readonly KeyValue[], b: readonly KeyValue[]): boolean {
  if (a.length !== b.length) return false;
  outer: for (const kv of a) {
    for (const other of b) {
      if (other.key === kv.key) {
        if (!anyValuesEqual(kv.value, other.value)) return false;
        continue outer;
      }
    }
    return false;
  }
  return true;
}

/** Deep equality of two values, maps compared without regard to key order (pdata's `Equal`). */
export function anyValuesEqual(a: AnyValue, b: AnyValue): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "empty":
      return true;
    case "bytes":
      return compareBytes(a.value, (b as typeof a).value) === 0;
    case "array": {
      const bv = (b as typeof a).value;
      return a.value.length === bv.length && a.value.every((v, i) => anyValuesEqual(v, bv[i]!));
    }
    case "kvlist":
      return mapsEqual(a.value, (b as typeof a).value);
    default:
      return a.value === (b as typeof a).value;
  }
}

function jsonString(s: string): string {
  // Go's encoding/json also escapes <, > and & (and U+2028/2029) as \u00XX.
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * JSON as Go's encoding/json writes `AsRaw()` of a value: map keys sorted, bytes base64.
 * Throws a `RangeError` for a NaN or infinite double, which JSON cannot hold (as Go).
 */
export function goJson(v: AnyValue): string {
  switch (v.kind) {
    case "empty":
      return "null";
    case "string":
      return jsonString(v.value);
    case "bool":
    case "int":
      return String(v.value);
    case "double":
      if (!Number.isFinite(v.value)) throw new RangeError(`json: unsupported value: ${v.value}`);
      return String(v.value);
    case "bytes":
      return `"${toBase64(v.value)}"`;
    case "array":
      return `[${v.value.map(goJson).join(",")}]`;
    case "kvlist": {
      const seen = new Set<string>();
      const entries = v.value.filter((kv) => !seen.has(kv.key) && seen.add(kv.key));
      entries.sort((x, y) => x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
      return `{${entries.map((kv) => `${jsonString(kv.key)}:${goJson(kv.value)}`).join(",")}}`;
    }
  }
}

/** A value as pdata's `AsString()`: doubles as JavaScript prints them, bytes as base64. */
export function valueAsString(v: AnyValue | undefined): string {
  if (v === undefined) return "";
  switch (v.kind) {
    case "string":
      return v.value;
    case "bool":
    case "int":
      return String(v.value);
    case "double":
      return String(v.value);
    case "bytes":
      return toBase64(v.value);
    case "empty":
      return "";
    default:
      return goJson(v);
  }
}
