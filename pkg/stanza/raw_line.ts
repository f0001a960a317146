/**
 * The line lane: a receiver hands a line it read to the operator chain as its bytes, and an
 * operator that ends the chain and understands them (the `container` parser, for CRI lines)
 * writes the record it would have emitted straight into the batch: no entry, no decoded line,
 * no body string. Anything the operator does not take goes the usual way, as an entry.
 *
 * @module
 */

import type { PlainLogRecord } from "../../core/pdata/otlp_proto.ts";
import type { ValueMap } from "./entry.ts";

/**
 * A line as a receiver read it, not decoded: `bytes[start, end)`. Valid only during the call it
 * is handed to (the receiver reuses both the object and its buffer).
 */
export interface RawLine {
  /** The `src.sourceId` the line's entry would have (its file). */
  sourceId: number;
  bytes: Uint8Array;
  start: number;
  end: number;
  /** True when the receiver checked that the bytes are valid UTF-8. */
  validText: boolean;
  /**
   * The attributes the line's entry would start with (shared: never changed); the entry would
   * have no resource (a receiver that sets one does not use the lane).
   */
  attributes: ValueMap;
  /** Observed time in Unix nanoseconds. */
  observed: bigint;
}

/**
 * Takes the record made from a line: `record`'s body is the string whose valid UTF-8 bytes are
 * `text[start, end)`; `resource` and `record.attributes` are maps shared by many records and
 * never changed (a sink may key what it derives from them by identity).
 */
export type LineSink = (
  resource: ValueMap,
  record: PlainLogRecord,
  text: Uint8Array,
  start: number,
  end: number,
) => void;

/** Takes a line straight into the batch, or says false (nothing done): send it as an entry. */
export type LineLane = (line: RawLine) => boolean;
