/**
 * Streamed parsing of Kubernetes API responses. A list response is split into its `items`
 * as the bytes arrive, and each item is parsed on its own, so a list of 100,000 pods (the
 * API server ignores `limit` when it serves `resourceVersion=0` from its watch cache) is
 * never held whole, neither as text nor as objects. Watch responses are one JSON event per
 * line.
 *
 * @module
 */

import { concatBytes } from "../../core/bytes.ts";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

const decoder = new TextDecoder();

/** The list's own `metadata`: where to resume (`resourceVersion`) and the next page. */
export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

/**
 * Splits a list response (`{"kind":…,"metadata":{…},"items":[{…},…]}`) into items while it
 * streams: `feed` each chunk, `onItem` gets every parsed item, `meta` the list metadata.
 */
export class ListStreamParser {
  readonly #onItem: (item: unknown) => void;
  #depth = 0;
  #inString = false;
  /** Backslashes just before the end of the previous chunk, inside a string. */
  #carriedBackslashes = 0;
  #expectKey = false;
  #keyCapture = false;
  #key = "";
  /** What the value being read at depth 1 is. */
  #section: "items" | "metadata" | "other" = "other";
  #capturing = false;
  #parts: Uint8Array[] = [];
  #captureStart = 0;
  #meta: ListMeta = {};

  /** Builds a parser that hands each item of the list to `onItem`. */
  constructor(onItem: (item: unknown) => void) {
    this.#onItem = onItem;
  }

  /** The list's metadata (complete once the whole response was fed). */
  get meta(): ListMeta {
    return this.#meta;
  }

  #begin(i: number): void {
    this.#capturing = true;
    this.#parts = [];
    this.#captureStart = i;
  }

  #end(chunk: Uint8Array, endExclusive: number): Uint8Array {
    this.#parts.push(chunk.subarray(this.#captureStart, endExclusive));
    this.#capturing = false;
    const bytes = concatBytes(this.#parts);
    this.#parts = [];
    return bytes;
  }

  /** Consumes the next bytes of the response. Throws a `SyntaxError` on a malformed item. */
  feed(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.#inString) {
        const q = chunk.indexOf(QUOTE, i);
        if (q < 0) {
          let k = n - 1;
          while (k >= i && chunk[k] === BACKSLASH) k--;
          const run = n - 1 - k;
          this.#carriedBackslashes = k < i ? this.#carriedBackslashes + run : run;
          i = n;
          break;
        }
        let k = q - 1;
        while (k >= i && chunk[k] === BACKSLASH) k--;
        let run = q - 1 - k;
        if (k < i) run += this.#carriedBackslashes;
        this.#carriedBackslashes = 0;
        i = q + 1;
        if (run % 2 === 1) continue; // an escaped quote
        this.#inString = false;
        if (this.#keyCapture) {
          this.#keyCapture = false;
          this.#key = decoder.decode(this.#end(chunk, q));
        }
        continue;
      }
      const c = chunk[i]!;
      if (c === QUOTE) {
        this.#inString = true;
        if (this.#depth === 1 && this.#expectKey) {
          this.#expectKey = false;
          this.#keyCapture = true;
          this.#begin(i + 1);
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.#depth++;
        if (this.#depth === 1) this.#expectKey = true;
        else if (this.#depth === 2) {
          this.#section = this.#key === "items"
            ? "items"
            : this.#key === "metadata" && c === OPEN_BRACE
            ? "metadata"
            : "other";
          if (this.#section === "metadata") this.#begin(i);
        } else if (this.#depth === 3 && this.#section === "items") this.#begin(i);
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.#depth--;
        if (this.#depth === 2 && this.#section === "items" && this.#capturing) {
          this.#onItem(JSON.parse(decoder.decode(this.#end(chunk, i + 1))));
        } else if (this.#depth === 1 && this.#section === "metadata" && this.#capturing) {
          this.#meta = JSON.parse(decoder.decode(this.#end(chunk, i + 1))) as ListMeta;
        }
      } else if (c === COMMA && this.#depth === 1) this.#expectKey = true;
      i++;
    }
    if (this.#capturing) {
      this.#parts.push(chunk.subarray(this.#captureStart));
      this.#captureStart = 0;
    }
  }

  /** Checks that the response ended where a list ends. */
  finish(): void {
    if (this.#depth !== 0 || this.#inString) {
      throw new SyntaxError("The list response ended in the middle of the JSON document");
    }
  }
}

/** Splits a watch response into lines and parses each as one JSON event. */
export class LineStreamParser {
  readonly #onLine: (value: unknown) => void;
  #parts: Uint8Array[] = [];

  /** Builds a parser that hands each parsed line to `onLine`. */
  constructor(onLine: (value: unknown) => void) {
    this.#onLine = onLine;
  }

  /** Consumes the next bytes; complete lines are parsed at once. */
  feed(chunk: Uint8Array): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      this.#parts.push(chunk.subarray(start, nl));
      const line = decoder.decode(concatBytes(this.#parts));
      this.#parts = [];
      start = nl + 1;
      if (line.trim() !== "") this.#onLine(JSON.parse(line));
    }
    if (start < chunk.length) this.#parts.push(chunk.slice(start));
  }

  /** Parses a last line that had no newline. */
  finish(): void {
    const line = decoder.decode(concatBytes(this.#parts)).trim();
    this.#parts = [];
    if (line !== "") this.#onLine(JSON.parse(line));
  }
}
