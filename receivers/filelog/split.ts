/**
 * Splits file bytes into tokens: at newlines (a CR before the LF is dropped, as upstream),
 * or at `multiline` start/end patterns; a token never exceeds `max_log_size`; leading and
 * trailing whitespace is trimmed unless preserved. Decoding turns a token into a body.
 *
 * @module
 */

import type { FilelogConfig } from "./config.ts";
import { NewlineScanner } from "./newline.ts";
import type { Value } from "../../pkg/stanza/entry.ts";

/** Called for each token: [start, end) within `data`, and the position after it. */
export type OnToken = (start: number, end: number, next: number, cut: boolean) => void;

const latin1 = new TextDecoder("windows-1252");

/**
 * Bytes decoded at a time for pattern splitting (at least two windows of max_log_size), so a
 * huge chunk (a whole gzip member) never becomes one string beyond V8's length limit.
 */
const SEGMENT = 4 * 1024 * 1024;

function isSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

/** Finds tokens in a buffer for one encoding and split configuration. */
export class Splitter {
  readonly #maxLogSize: number;
  readonly #unit: number;
  readonly #nl: (data: Uint8Array, from: number, end: number) => number;
  readonly #cr: (data: Uint8Array, at: number) => boolean;
  readonly #start: RegExp | undefined;
  readonly #end: RegExp | undefined;
  readonly #omit: boolean;
  readonly #nop: boolean;
  readonly #trimLeading: boolean;
  readonly #trimTrailing: boolean;

  /** Builds a splitter from the receiver's config. */
  constructor(cfg: FilelogConfig) {
    this.#maxLogSize = cfg.maxLogSize;
    const enc = cfg.encoding;
    this.#nop = enc === "nop";
    this.#start = cfg.multiline?.lineStartPattern;
    this.#end = cfg.multiline?.lineEndPattern;
    this.#omit = cfg.multiline?.omitPattern ?? false;
    const byteTrim = !enc.startsWith("utf-16") && !this.#nop;
    this.#trimLeading = byteTrim && !cfg.preserveLeadingWhitespaces;
    this.#trimTrailing = byteTrim && !cfg.preserveTrailingWhitespaces;
    if (enc === "utf-16le" || enc === "utf-16be") {
      const le = enc === "utf-16le";
      this.#unit = 2;
      this.#nl = (d, from, end) => {
        for (let i = from; i + 1 < end; i += 2) {
          if (le ? d[i] === 0x0a && d[i + 1] === 0 : d[i] === 0 && d[i + 1] === 0x0a) return i;
        }
        return -1;
      };
      this.#cr = (d, at) =>
        le ? d[at] === 0x0d && d[at + 1] === 0 : d[at] === 0 && d[at + 1] === 0x0d;
    } else {
      this.#unit = 1;
      const scanner = new NewlineScanner();
      this.#nl = (d, from, end) => scanner.find(d, from, end);
      this.#cr = (d, at) => d[at] === 0x0d;
    }
  }

  /** Length in bytes of the newline for this encoding. */
  get unit(): number {
    return this.#unit;
  }

  /**
   * Emits the complete tokens of data[from, end); with `flush`, the remainder too.
   * Returns the position after the last token emitted.
   */
  split(data: Uint8Array, from: number, end: number, flush: boolean, on: OnToken): number {
    if (this.#nop) return this.#splitNop(from, end, flush, on);
    if (this.#start !== undefined || this.#end !== undefined) {
      return this.#splitPattern(data, from, end, flush, on);
    }
    const max = this.#maxLogSize;
    const unit = this.#unit;
    let pos = from;
    while (pos < end) {
      const limit = Math.min(end, pos + max + unit);
      const i = this.#nl(data, pos, limit);
      if (i >= 0 && i - pos <= max) {
        let tokEnd = i;
        if (tokEnd - unit >= pos && this.#cr(data, tokEnd - unit)) tokEnd -= unit;
        this.#emit(data, pos, tokEnd, i + unit, false, on);
        pos = i + unit;
        continue;
      }
      if (end - pos >= max + unit || (flush && end - pos >= max)) {
        // No newline within max_log_size (the byte after it seen too, unless at the end):
        // cut the token there (on a character boundary).
        const cutAt = this.#boundary(data, pos, pos + max);
        this.#emit(data, pos, cutAt, cutAt, true, on);
        pos = cutAt;
        continue;
      }
      if (flush) {
        this.#emit(data, pos, end, end, false, on);
        pos = end;
      }
      break;
    }
    return pos;
  }

  /** Moves a cut back so it does not split a UTF-8 sequence (or a UTF-16 unit). */
  #boundary(data: Uint8Array, start: number, cut: number): number {
    if (this.#unit === 2) return cut - ((cut - start) % 2);
    let c = cut;
    // Step back over continuation bytes (10xxxxxx), at most 3.
    while (c > start && cut - c < 3 && (data[c]! & 0xc0) === 0x80) c--;
    return c > start ? c : cut;
  }

  #emit(data: Uint8Array, s: number, e: number, next: number, cut: boolean, on: OnToken): void {
    if (this.#trimLeading) { while (s < e && isSpace(data[s]!)) s++; }
    if (this.#trimTrailing) { while (e > s && isSpace(data[e - 1]!)) e--; }
    on(s, e, next, cut);
  }

  #splitNop(from: number, end: number, flush: boolean, on: OnToken): number {
    let pos = from;
    while (end - pos >= this.#maxLogSize) {
      on(pos, pos + this.#maxLogSize, pos + this.#maxLogSize, true);
      pos += this.#maxLogSize;
    }
    if (flush && pos < end) {
      on(pos, end, end, false);
      pos = end;
    }
    return pos;
  }

  #splitPattern(data: Uint8Array, from: number, end: number, flush: boolean, on: OnToken): number {
    // windows-1252 maps every byte to one UTF-16 unit, so string indexes are byte offsets.
    // The bytes are decoded once per segment (not once per token: that was quadratic); each
    // token's window is an O(1) slice of it, so the pattern sees the window alone, with `^`
    // at its start, as upstream's split function sees its data.
    let pos = from;
    const max = this.#maxLogSize;
    const segSize = Math.max(SEGMENT, 2 * (max + 1));
    let seg = "", segStart = 0, segEnd = 0;
    for (;;) {
      const winEnd = Math.min(end, pos + max + 1);
      if (pos < segStart || winEnd > segEnd) {
        segStart = pos;
        segEnd = Math.min(end, pos + segSize);
        seg = latin1.decode(data.subarray(segStart, segEnd));
      }
      const text = seg.slice(pos - segStart, winEnd - segStart);
      const r = this.#start !== undefined
        ? this.#startToken(text, flush && end - pos <= max)
        : this.#endToken(text, flush && end - pos <= max);
      if (r === undefined) {
        if (end - pos > max) {
          const cutAt = this.#boundary(data, pos, pos + max);
          this.#emit(data, pos, cutAt, cutAt, true, on);
          pos = cutAt;
          continue;
        }
        return pos;
      }
      if (r.advance === 0) return pos;
      this.#emit(data, pos + r.s, pos + r.e, pos + r.advance, false, on);
      pos += r.advance;
      if (pos >= end) return pos;
    }
  }

  #startToken(text: string, flush: boolean): { s: number; e: number; advance: number } | undefined {
    const re = this.#start!;
    re.lastIndex = 0;
    const first = re.exec(text);
    if (first === null) {
      return flush && text.length > 0 ? { s: 0, e: text.length, advance: text.length } : undefined;
    }
    const fs = first.index, fe = fs + first[0].length;
    if (fs !== 0) return { s: 0, e: fs, advance: fs };
    if (fe === text.length && !flush) return undefined;
    let second: RegExpExecArray | null = null;
    re.lastIndex = fe === fs ? fe + 1 : fe;
    while ((second = re.exec(text)) !== null) {
      if (second.index > fe) break;
      if (second[0].length === 0) re.lastIndex++;
    }
    if (second === null) {
      if (flush) return { s: this.#omit ? fe : 0, e: text.length, advance: text.length };
      return undefined;
    }
    return { s: this.#omit ? fe : 0, e: second.index, advance: second.index };
  }

  #endToken(text: string, flush: boolean): { s: number; e: number; advance: number } | undefined {
    const re = this.#end!;
    re.lastIndex = 0;
    const m = re.exec(text);
    if (m === null || m[0].length === 0) {
      return flush && text.length > 0 ? { s: 0, e: text.length, advance: text.length } : undefined;
    }
    const me = m.index + m[0].length;
    return { s: 0, e: this.#omit ? m.index : me, advance: me };
  }
}

/** Result of decoding a token. */
export interface Decoded {
  readonly body: Value;
  /** True when invalid sequences were replaced by U+FFFD. */
  readonly replaced: boolean;
}

/** Turns token bytes into a body for one encoding. */
export class TokenDecoder {
  readonly #kind: "utf8" | "raw" | "nop" | "other";
  readonly #dec: TextDecoder;
  readonly #fatal: TextDecoder | undefined;
  readonly #trim: boolean;
  readonly #trimLeading: boolean;
  readonly #trimTrailing: boolean;

  /** Builds the decoder for `cfg.encoding`. */
  constructor(cfg: FilelogConfig) {
    const enc = cfg.encoding;
    this.#kind = enc === "nop"
      ? "nop"
      : enc === "utf-8-raw" || enc === "utf8-raw"
      ? "raw"
      : ["utf-8", "utf8", "ascii", "us-ascii"].includes(enc)
      ? "utf8"
      : "other";
    const label = this.#kind === "other" ? enc : "utf-8";
    this.#dec = new TextDecoder(label, { ignoreBOM: false });
    this.#fatal = this.#kind === "raw" ? new TextDecoder("utf-8", { fatal: true }) : undefined;
    // Byte trimming does not work for UTF-16: trim the decoded text instead.
    this.#trim = enc.startsWith("utf-16");
    this.#trimLeading = !cfg.preserveLeadingWhitespaces;
    this.#trimTrailing = !cfg.preserveTrailingWhitespaces;
  }

  /** Whether tokens are decoded as UTF-8, invalid sequences replaced. */
  get utf8(): boolean {
    return this.#kind === "utf8";
  }

  /** Decodes data[s, e). */
  decode(data: Uint8Array, s: number, e: number): Decoded {
    const bytes = data.subarray(s, e);
    switch (this.#kind) {
      case "nop":
        return { body: bytes.slice(), replaced: false };
      case "raw":
        try {
          return { body: this.#fatal!.decode(bytes), replaced: false };
        } catch {
          // Keep the bytes exactly rather than replacing anything.
          return { body: bytes.slice(), replaced: false };
        }
      default: {
        let text = this.#dec.decode(bytes);
        if (this.#trim) {
          if (this.#trimLeading) text = text.trimStart();
          if (this.#trimTrailing) text = text.trimEnd();
        }
        const replaced = text.includes("\uFFFD") && replacedInvalid(bytes, text);
        return { body: text, replaced };
      }
    }
  }
}

/** True when U+FFFD in `text` came from invalid input rather than an encoded U+FFFD. */
function replacedInvalid(bytes: Uint8Array, text: string): boolean {
  let inText = 0;
  for (let i = text.indexOf("\uFFFD"); i >= 0; i = text.indexOf("\uFFFD", i + 1)) inText++;
  let inBytes = 0;
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) inBytes++;
  }
  return inText > inBytes;
}
