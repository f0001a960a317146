/**
 * Decodes a large OTLP/JSON request in slices, giving the event loop back between them, so a
 * 20 MiB JSON body does not stall every other request for the 100–250 ms one `JSON.parse` and
 * walk of it take. A scanner finds where each resource, scope and log record starts and ends
 * (without building anything); the resources without their records, then runs of records,
 * are each parsed and walked by the project's JSON decoder, which checks them as it checks a
 * whole request and names errors by their place in the whole request (of several errors,
 * another may be reported first: resources and scopes are checked before their records).
 *
 * Shapes the scanner does not plan for (a key given twice, both spellings of one, an element
 * that is not an object) are decoded whole, as before; so are small bodies.
 *
 * @module
 */

import { LoopTurns } from "../../core/async.ts";
import type { Logs, ResourceLogs } from "../../core/pdata/logs.ts";
import { decodeLogsRequestJson, OtlpDecodeError } from "../../core/pdata/otlp_json.ts";
import { readLogRecordsJson, readResourceLogsJson } from "../../core/pdata/json_reader.ts";

/**
 * Bodies up to this many characters are decoded whole (a few milliseconds): slicing costs
 * about twice the CPU of a whole decode, for the scan and the second pass over the text.
 */
export const WHOLE_MAX_CHARS = 1024 * 1024;
/** The text parsed at once: a run of resources or of records. */
export const SLICE_CHARS = 256 * 1024;

/** A shape the scanner does not plan for: decode the request whole. */
class Unplanned extends Error {}

/** Where one array sits in the text, and its elements. */
interface ArraySpan {
  /** `[` … `]` inclusive: text.slice(start, end) is the array. */
  start: number;
  end: number;
  /** Element bounds, two numbers each. */
  items: number[];
}

interface ScopePlan {
  start: number;
  end: number;
  records?: ArraySpan;
}

interface ResourcePlan {
  start: number;
  end: number;
  scopes?: ArraySpan;
  scopePlans: ScopePlan[];
}

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);
const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const OPEN_OBJ = 0x7b, CLOSE_OBJ = 0x7d, OPEN_ARR = 0x5b, CLOSE_ARR = 0x5d;

/** Walks JSON text without building values (iteratively: nesting depth costs no stack). */
class Scanner {
  pos = 0;
  /** `pause` is awaited between the elements of an array: it yields when a slice is used up. */
  constructor(readonly text: string, readonly pause: () => Promise<void>) {}

  fail(what: string): never {
    throw new OtlpDecodeError(
      `Invalid OTLP JSON: ${what} at character ${this.pos}; the body must be a JSON-encoded ` +
        "ExportLogsServiceRequest",
    );
  }

  /** The next character after white space (NaN at the end). */
  peek(): number {
    const t = this.text;
    while (this.pos < t.length && WS.has(t.charCodeAt(this.pos))) this.pos++;
    return t.charCodeAt(this.pos);
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(`expected ${what}`);
    this.pos++;
  }

  skipString(): void {
    const t = this.text;
    let i = this.pos + 1;
    for (;;) {
      const q = t.indexOf('"', i);
      if (q < 0) this.fail("unterminated string");
      let slashes = 0;
      for (let j = q - 1; j > this.pos && t.charCodeAt(j) === BACKSLASH; j--) slashes++;
      i = q + 1;
      if (slashes % 2 === 0) break;
    }
    this.pos = i;
  }

  /** A key and its colon; returns the key. */
  key(): string {
    if (this.peek() !== QUOTE) this.fail("expected a key");
    const start = this.pos;
    this.skipString();
    const raw = this.text.slice(start, this.pos);
    this.expect(COLON, "':'");
    if (!raw.includes("\\")) return raw.slice(1, -1);
    try {
      return JSON.parse(raw);
    } catch {
      this.fail("bad escape in a key");
    }
  }

  /** Skips one value of any kind; the parse of whatever holds it checks it. */
  skipValue(): void {
    const t = this.text;
    let depth = 0;
    do {
      const c = this.peek();
      if (c === QUOTE) this.skipString();
      else if (c === OPEN_OBJ || c === OPEN_ARR) {
        depth++;
        this.pos++;
      } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
        if (depth === 0) this.fail("unexpected bracket");
        depth--;
        this.pos++;
      } else if ((c === COMMA || c === COLON) && depth > 0) this.pos++;
      else {
        const start = this.pos;
        while (this.pos < t.length) {
          const d = t.charCodeAt(this.pos);
          if (d === COMMA || d === CLOSE_OBJ || d === CLOSE_ARR || d === COLON || WS.has(d)) break;
          this.pos++;
        }
        if (this.pos === start) this.fail("expected a value");
      }
    } while (depth > 0);
  }

  /** An array's span; `each` is called at the start of every element and must move past it. */
  async array(each: (index: number) => Promise<void>): Promise<ArraySpan> {
    const start = this.pos;
    this.expect(OPEN_ARR, "'['");
    const items: number[] = [];
    if (this.peek() === CLOSE_ARR) {
      this.pos++;
      return { start, end: this.pos, items };
    }
    for (let i = 0;; i++) {
      this.peek();
      const from = this.pos;
      await each(i);
      items.push(from, this.pos);
      await this.pause();
      const c = this.peek();
      this.pos++;
      if (c === CLOSE_ARR) return { start, end: this.pos, items };
      if (c !== COMMA) this.fail("expected ',' or ']'");
    }
  }

  /** An object: `onKey` handles a key's value (and returns true) or leaves it to be skipped. */
  async object(onKey: (key: string) => Promise<boolean>): Promise<void> {
    if (this.peek() !== OPEN_OBJ) throw new Unplanned();
    this.pos++;
    if (this.peek() === CLOSE_OBJ) {
      this.pos++;
      return;
    }
    for (;;) {
      if (!await onKey(this.key())) this.skipValue();
      const c = this.peek();
      this.pos++;
      if (c === CLOSE_OBJ) return;
      if (c !== COMMA) this.fail("expected ',' or '}'");
    }
  }

  /**
   * An object with one array field of interest (camelCase or snake_case): its span, found
   * with `each` called per element; undefined when absent or not an array.
   */
  async field(
    camel: string,
    snake: string,
    each: (index: number) => Promise<void>,
  ): Promise<ArraySpan | undefined> {
    let span: ArraySpan | undefined;
    let seen = false;
    await this.object(async (key) => {
      if (key !== camel && key !== snake) return false;
      if (seen) throw new Unplanned(); // given twice: JSON.parse would keep the last
      seen = true;
      if (this.peek() === OPEN_ARR) span = await this.array(each);
      return span !== undefined;
    });
    return span;
  }
}

/** Finds every resource, scope and record; undefined when the request has no resource list. */
async function plan(
  s: Scanner,
): Promise<{ resources: ArraySpan; plans: ResourcePlan[] } | undefined> {
  const plans: ResourcePlan[] = [];
  const resources = await s.field("resourceLogs", "resource_logs", async () => {
    const r: ResourcePlan = { start: s.pos, end: 0, scopePlans: [] };
    r.scopes = await s.field("scopeLogs", "scope_logs", async () => {
      const sp: ScopePlan = { start: s.pos, end: 0 };
      sp.records = await s.field("logRecords", "log_records", () => {
        s.skipValue();
        return Promise.resolve();
      });
      sp.end = s.pos;
      r.scopePlans.push(sp);
    });
    r.end = s.pos;
    plans.push(r);
  });
  if (!Number.isNaN(s.peek())) s.fail("unexpected text after the request");
  return resources === undefined ? undefined : { resources, plans };
}

/** `text` from `start` to `end` with the array `inner` replaced by `replacement`. */
function without(
  text: string,
  start: number,
  end: number,
  inner: ArraySpan | undefined,
  replacement: string,
): string {
  if (inner === undefined) return text.slice(start, end);
  return text.slice(start, inner.start) + replacement + text.slice(inner.end, end);
}

/**
 * Decodes an OTLP/JSON ExportLogsServiceRequest as `decodeLogsRequestJson` does; text longer
 * than `wholeMaxChars` is decoded about `sliceChars` at a time, yielding to the event loop
 * whenever `yieldMs` passed since the last time.
 *
 * @throws {OtlpDecodeError} when the text is not a valid request
 */
export async function decodeLogsRequestJsonSliced(
  text: string,
  { wholeMaxChars = WHOLE_MAX_CHARS, sliceChars = SLICE_CHARS, yieldMs = 4 } = {},
): Promise<Logs> {
  if (text.length <= wholeMaxChars) return decodeLogsRequestJson(text);
  const turns = new LoopTurns(yieldMs);
  let found;
  try {
    found = await plan(new Scanner(text, () => turns.pause()));
  } catch (e) {
    if (e instanceof Unplanned) return decodeLogsRequestJson(text);
    throw e;
  }
  if (found === undefined) return decodeLogsRequestJson(text);
  // The request without its resources: checks every other field as a whole decode would.
  decodeLogsRequestJson(without(text, 0, text.length, found.resources, "[]"));
  const { plans } = found;
  const logs: Logs = { resourceLogs: [] };
  for (let r = 0; r < plans.length;) {
    // A run of resources, each without its scopes' records, up to `sliceChars` of text.
    const skeletons: string[] = [];
    let chars = 0;
    const first = r;
    do {
      const p = plans[r++]!;
      const scopes = p.scopes === undefined ? undefined : "[" +
        p.scopePlans.map((sp) => without(text, sp.start, sp.end, sp.records, "[]")).join(",") +
        "]";
      const skeleton = without(text, p.start, p.end, p.scopes, scopes ?? "");
      skeletons.push(skeleton);
      chars += skeleton.length;
    } while (r < plans.length && chars < sliceChars);
    await turns.pause();
    const decoded: ResourceLogs[] = readResourceLogsJson(`[${skeletons.join(",")}]`, first);
    for (let i = 0; i < decoded.length; i++) {
      const rl = decoded[i]!;
      logs.resourceLogs.push(rl);
      const scopePlans = plans[first + i]!.scopePlans;
      for (let j = 0; j < scopePlans.length; j++) {
        const items = scopePlans[j]!.records?.items;
        if (items === undefined) continue;
        const records = rl.scopeLogs[j]!.logRecords;
        for (let k = 0; k < items.length / 2;) {
          const from = k;
          let runChars = 0;
          const parts: string[] = [];
          do {
            const part = text.slice(items[2 * k]!, items[2 * k + 1]!);
            parts.push(part);
            runChars += part.length;
            k++;
          } while (k < items.length / 2 && runChars < sliceChars);
          await turns.pause();
          const path = `resourceLogs[${first + i}].scopeLogs[${j}]`;
          for (const rec of readLogRecordsJson(`[${parts.join(",")}]`, path, from)) {
            records.push(rec);
          }
        }
      }
    }
  }
  return logs;
}
