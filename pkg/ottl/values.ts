/**
 * The values a condition works with and OTTL's comparison rules. Attribute and body values
 * are unwrapped without copying: strings, `bigint` for ints, `number` for doubles, booleans,
 * and the `AnyValue` itself for bytes, lists and maps; an absent or empty value is `null`.
 *
 * @module
 */

import type { AnyValue, KeyValue } from "../../core/pdata/logs.ts";
import { toBase64 } from "../../core/pdata/json_writer.ts";
import type { CompareOp } from "./parser.ts";

/** A value during evaluation. */
export type Value =
  | null
  | string
  | bigint
  | number
  | boolean
  | (AnyValue & { kind: "bytes" | "array" | "kvlist" });

/** An error while evaluating a condition on one record (handled by `error_mode`). */
export class OttlEvalError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "OttlEvalError";
  }
}

/** Unwraps an attribute or body value. */
export function fromAnyValue(v: AnyValue | undefined): Value {
  if (v === undefined) return null;
  switch (v.kind) {
    case "string":
    case "bool":
    case "int":
    case "double":
      return v.value;
    case "empty":
      return null;
    default:
      return v;
  }
}

/** The type name used in error messages (Go's names, as upstream reports them). */
export function typeName(v: Value): string {
  if (v === null) return "nil";
  switch (typeof v) {
    case "string":
      return "string";
    case "bigint":
      return "int64";
    case "number":
      return "float64";
    case "boolean":
      return "bool";
    default:
      return v.kind === "bytes" ? "[]byte" : v.kind === "array" ? "pcommon.Slice" : "pcommon.Map";
  }
}

function ordered<T extends string | number | bigint>(a: T, b: T, op: CompareOp): boolean {
  switch (op) {
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
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

/**
 * Compares two values by OTTL's rules: nil equals only nil; ints and doubles compare as
 * numbers; strings, booleans (false < true) and bytes are ordered; lists and maps only have
 * `==`/`!=`; any other pair of types is unequal and unordered (only `!=` is true).
 */
export function compareValues(a: Value, b: Value, op: CompareOp): boolean {
  if (a === null && b === null) return op === "==" || op === "<=" || op === ">=";
  if (a === null || b === null) return op === "!=";
  switch (typeof a) {
    case "string":
      return typeof b === "string" ? ordered(a, b, op) : op === "!=";
    case "boolean":
      return typeof b === "boolean" ? ordered(Number(a), Number(b), op) : op === "!=";
    case "bigint":
      if (typeof b === "bigint") return ordered(a, b, op);
      return typeof b === "number" ? ordered(Number(a), b, op) : op === "!=";
    case "number":
      if (typeof b === "number") return ordered(a, b, op);
      return typeof b === "bigint" ? ordered(a, Number(b), op) : op === "!=";
  }
  if (typeof b !== "object" || b.kind !== a.kind) return op === "!=";
  if (a.kind === "bytes") return ordered(compareBytes(a.value, (b as typeof a).value), 0, op);
  if (op === "==") return anyValuesEqual(a, b);
  if (op === "!=") return !anyValuesEqual(a, b);
  return false;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of bytes. */
export function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX[b];
  return s;
}

function jsonString(s: string): string {
  // Go's encoding/json also escapes <, > and & (and U+2028/2029) as \u00XX.
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** JSON as Go's encoding/json writes `AsRaw()` of a value: map keys sorted, bytes base64. */
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
      if (!Number.isFinite(v.value)) throw new OttlEvalError(`json: unsupported value: ${v.value}`);
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

/**
 * A value as text, as upstream's `StringLikeGetter`: bytes as hex, lists and maps as JSON,
 * numbers and booleans as JSON; `null` stays `null`.
 */
export function toStringLike(v: Value): string | null {
  switch (typeof v) {
    case "string":
      return v;
    case "bigint":
    case "boolean":
      return String(v);
    case "number":
      if (!Number.isFinite(v)) throw new OttlEvalError(`json: unsupported value: ${v}`);
      return String(v);
  }
  if (v === null) return null;
  return v.kind === "bytes" ? hexOf(v.value) : goJson(v);
}

/** Length in UTF-8 bytes, as Go's `len` of a string. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
