/**
 * The values a condition works with and OTTL's comparison rules. Attribute and body values
 * are unwrapped without copying: strings, `bigint` for ints, `number` for doubles, booleans,
 * and the `AnyValue` itself for bytes, lists and maps; an absent or empty value is `null`.
 *
 * @module
 */

import type { AnyValue } from "../../core/pdata/logs.ts";
import { anyValuesEqual, compareBytes, goJson } from "../../core/pdata/values.ts";
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
  if (v.kind === "bytes") return hexOf(v.value);
  try {
    return goJson(v);
  } catch (err) {
    // A NaN or infinite double inside a list or map: an error for this record only.
    if (err instanceof RangeError) throw new OttlEvalError(err.message);
    throw err;
  }
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
