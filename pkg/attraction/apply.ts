/**
 * Applies attribute actions to one attribute list in place, as upstream's
 * `attraction.AttrProc.Process`: actions run in order, each seeing the previous ones' result.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { ClientInfo } from "../../core/consumer.ts";
import { type AnyValue, cloneValue, type KeyValue } from "../../core/pdata/logs.ts";
import { valueAsString } from "../../core/pdata/values.ts";
import type { Action, ValueSource } from "./config.ts";

function indexOf(attrs: readonly KeyValue[], key: string): number {
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key === key) return i;
  return -1;
}

/** Removes every attribute whose key passes `test`. */
function removeWhere(attrs: KeyValue[], test: (key: string) => boolean): void {
  let w = 0;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    if (!test(kv.key)) attrs[w++] = kv;
  }
  attrs.length = w;
}

/**
 * A value from the request (upstream's `from_context`): `client.address`, `metadata.<key>`,
 * `auth.<attribute>`, or a bare metadata key. Several values are joined with ";".
 */
export function contextValue(client: ClientInfo | undefined, key: string): string | undefined {
  let values: readonly string[] | undefined;
  if (key === "client.address") {
    values = client?.addr === undefined ? undefined : [client.addr];
  } else if (key.startsWith("auth.")) {
    const v = client?.auth?.[key.slice("auth.".length)];
    if (typeof v === "string") return v;
    values = Array.isArray(v) && v.every((x) => typeof x === "string") ? v : undefined;
  } else {
    const name = key.startsWith("metadata.") ? key.slice("metadata.".length) : key;
    values = client?.metadata?.get(name.toLowerCase());
  }
  return values === undefined || values.length === 0 ? undefined : values.join(";");
}

function sourceValue(
  source: ValueSource,
  attrs: readonly KeyValue[],
  client: ClientInfo | undefined,
): AnyValue | undefined {
  switch (source.kind) {
    case "value":
      return cloneValue(source.value);
    case "from_attribute": {
      const i = indexOf(attrs, source.key);
      return i < 0 ? undefined : cloneValue(attrs[i]!.value);
    }
    case "from_context": {
      const v = contextValue(client, source.key);
      return v === undefined ? undefined : { kind: "string", value: v };
    }
  }
}

const TRUE = new Uint8Array([1]);
const FALSE = new Uint8Array([0]);

/**
 * SHA-256 of a value as hex, as upstream's hash action: strings by their UTF-8 bytes, bools as
 * one byte, ints and doubles as their 8 bytes little-endian. Other values hash to "".
 */
export function hashValue(v: AnyValue): string {
  let bytes: Uint8Array | string;
  switch (v.kind) {
    case "string":
      bytes = v.value;
      break;
    case "bool":
      bytes = v.value ? TRUE : FALSE;
      break;
    case "int": {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, v.value, true);
      bytes = b;
      break;
    }
    case "double": {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v.value, true);
      bytes = b;
      break;
    }
    default:
      return "";
  }
  return createHash("sha256").update(bytes).digest("hex");
}

const INT_TEXT = /^[-+]?[0-9]+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's `strconv.ParseFloat` decimal forms and inf/nan (any case); hex floats are not read. */
function parseGoFloat(s: string): number | undefined {
  if (/^[-+]?(inf|infinity)$/i.test(s)) return s.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** Converts as upstream's `convert`; a value that cannot be converted is left unchanged. */
export function convertValue(v: AnyValue, to: "int" | "double" | "string"): AnyValue {
  switch (to) {
    case "string":
      return v.kind === "string" ? v : { kind: "string", value: valueAsString(v) };
    case "int":
      switch (v.kind) {
        case "double": {
          const t = Math.trunc(v.value);
          return Number.isFinite(t) && Math.abs(t) < 2 ** 63
            ? { kind: "int", value: BigInt(t) }
            : v;
        }
        case "bool":
          return { kind: "int", value: v.value ? 1n : 0n };
        case "string": {
          if (!INT_TEXT.test(v.value)) return v;
          const n = BigInt(v.value);
          return n < INT64_MIN || n > INT64_MAX ? v : { kind: "int", value: n };
        }
        default:
          return v;
      }
    case "double":
      switch (v.kind) {
        case "int":
          return { kind: "double", value: Number(v.value) };
        case "bool":
          return { kind: "double", value: v.value ? 1 : 0 };
        case "string": {
          const n = parseGoFloat(v.value);
          return n === undefined ? v : { kind: "double", value: n };
        }
        default:
          return v;
      }
  }
}

/** Runs `actions` on `attrs` in place; `client` feeds `from_context`. */
export function applyActions(
  actions: readonly Action[],
  attrs: KeyValue[],
  client: ClientInfo | undefined,
): void {
  for (const a of actions) {
    switch (a.action) {
      case "delete": {
        const re = a.pattern;
        removeWhere(attrs, (k) => k === a.key || (re !== undefined && re.test(k)));
        break;
      }
      case "insert": {
        if (indexOf(attrs, a.key) >= 0) break;
        const v = sourceValue(a.source, attrs, client);
        if (v !== undefined) attrs.push({ key: a.key, value: v });
        break;
      }
      case "update": {
        const i = indexOf(attrs, a.key);
        if (i < 0) break;
        const v = sourceValue(a.source, attrs, client);
        if (v !== undefined) attrs[i]!.value = v;
        break;
      }
      case "upsert": {
        const v = sourceValue(a.source, attrs, client);
        if (v === undefined) break;
        const i = indexOf(attrs, a.key);
        if (i >= 0) attrs[i]!.value = v;
        else attrs.push({ key: a.key, value: v });
        break;
      }
      case "hash": {
        // As upstream: the key first, then every key the pattern matches (a key that is both
        // is hashed twice, so hashes agree with upstream collectors').
        const i = indexOf(attrs, a.key);
        if (i >= 0) attrs[i]!.value = { kind: "string", value: hashValue(attrs[i]!.value) };
        const re = a.pattern;
        if (re === undefined) break;
        for (const kv of attrs) {
          if (re.test(kv.key)) kv.value = { kind: "string", value: hashValue(kv.value) };
        }
        break;
      }
      case "extract": {
        const i = indexOf(attrs, a.key);
        const v = i < 0 ? undefined : attrs[i]!.value;
        if (v?.kind !== "string") break;
        const m = a.pattern.exec(v.value);
        if (m === null) break;
        a.names.forEach((name, g) => {
          const value: AnyValue = { kind: "string", value: m[g + 1] ?? "" };
          const j = indexOf(attrs, name);
          if (j >= 0) attrs[j]!.value = value;
          else attrs.push({ key: name, value });
        });
        break;
      }
      case "convert": {
        const i = indexOf(attrs, a.key);
        if (i >= 0) attrs[i]!.value = convertValue(attrs[i]!.value, a.convertedType);
        break;
      }
    }
  }
}
