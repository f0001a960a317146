/**
 * The entry that flows through the operator chain (stanza's `entry.Entry`): plain
 * JavaScript values, so operators read and write fields cheaply; encoded (or converted to a
 * `LogRecord`) once at the end of the chain.
 *
 * @module
 */

import type { PlainValue } from "../../core/pdata/otlp_proto.ts";

/**
 * A field value: what JSON, regex captures and config literals produce. The codec's plain
 * value, so records are encoded straight from entries (`EncodedRecords.add`).
 */
export type Value = PlainValue;

/** A plain map of values (attributes, resource, parsed bodies). */
export type ValueMap = { [key: string]: Value };

/**
 * Where an entry came from, so a receiver never acknowledges data an operator still holds.
 * Operators only compare `seq` within one source and hand the source back; `position` is
 * the receiver's own (a file's record number, a journald cursor).
 */
export interface EntrySource {
  /** Identity of the source (a file, a journal) for the receiver's lifetime. */
  readonly sourceId: number;
  /** Grows with every entry of the source (a byte offset, a counter): orders held entries. */
  readonly seq: number;
  /** Opaque to operators: what the receiver needs to resume reading at this entry. */
  readonly position: unknown;
}

/** The source among `a` and `b` (either may be undefined) that came first. */
export function earlier(
  a: EntrySource | undefined,
  b: EntrySource | undefined,
): EntrySource | undefined {
  if (a === undefined) return b;
  return b === undefined || a.seq <= b.seq ? a : b;
}

/** One log entry inside the receiver. */
export interface Entry {
  body: Value | undefined;
  attributes: ValueMap;
  resource: ValueMap;
  /**
   * True while `resource` is shared with other entries (the file's cached resource); field
   * writers copy it before changing it.
   */
  resourceShared: boolean;
  /** Record time in Unix nanoseconds; 0n = unset. */
  timestamp: bigint;
  observed: bigint;
  severity: number;
  severityText: string;
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  traceFlags?: number;
  src: EntrySource | undefined;
}

/** Returns a new entry with the given body and empty maps. */
export function newEntry(body: Value | undefined, observed: bigint): Entry {
  return {
    body,
    attributes: {},
    resource: {},
    resourceShared: false,
    timestamp: 0n,
    observed,
    severity: 0,
    severityText: "",
    src: undefined,
  };
}

/** Deep-copies a value (maps and lists; bytes are copied too). */
export function cloneValue(v: Value): Value {
  if (v === null || typeof v !== "object") return v;
  if (v instanceof Uint8Array) return v.slice();
  if (Array.isArray(v)) return v.map(cloneValue);
  const out: ValueMap = {};
  for (const k in v) out[k] = cloneValue(v[k]!);
  return out;
}

/** Deep-copies an entry (for fan-out to several operators). */
export function cloneEntry(e: Entry): Entry {
  return {
    ...e,
    body: e.body === undefined ? undefined : cloneValue(e.body),
    attributes: cloneValue(e.attributes) as ValueMap,
    resource: e.resourceShared ? e.resource : cloneValue(e.resource) as ValueMap,
  };
}

/** True when `v` is a plain map (not a list, bytes or scalar). */
export function isMap(v: Value | undefined): v is ValueMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
