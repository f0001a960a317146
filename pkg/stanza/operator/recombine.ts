/**
 * `recombine`: joins consecutive entries of one source (by default one file) into one,
 * ending a batch at `is_last_entry` or starting one at `is_first_entry`, with size, count
 * and time limits. Held entries report their source, so checkpoints stay behind them.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import { earlier, type Entry, type EntrySource } from "../entry.ts";
import { compileExpr, type Expr } from "../expr.ts";
import { type Field, getField, setField } from "../field.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";
import { readField } from "./parser.ts";

interface RecombineConfig {
  readonly combineField: Field;
  readonly combineWith: string;
  readonly isFirst: Expr | undefined;
  readonly isLast: Expr | undefined;
  readonly maxBatchSize: number;
  readonly maxUnmatchedBatchSize: number;
  readonly overwriteWithNewest: boolean;
  readonly forceFlushMs: number;
  readonly sourceIdentifier: Field;
  readonly maxSources: number;
  readonly maxLogSize: number;
}

interface Batch {
  entries: Entry[];
  parts: string[];
  size: number;
  lastAddMs: number;
  matched: boolean;
}

class RecombineOperator extends Operator {
  readonly #cfg: RecombineConfig;
  readonly #batches = new Map<string, Batch>();
  #now = Date.now();

  constructor(common: CommonConfig, cfg: RecombineConfig, ctx: BuildContext) {
    super(common, ctx);
    this.#cfg = cfg;
  }

  protected handle(e: Entry): void {
    const cfg = this.#cfg;
    const v = getField(e, cfg.combineField);
    if (v === undefined) {
      this.emit(e); // nothing to combine: pass through, as upstream
      return;
    }
    const text = typeof v === "string" ? v : JSON.stringify(v);
    const src = getField(e, cfg.sourceIdentifier);
    const key = typeof src === "string" ? src : "DefaultSourceIdentifier";
    let batch = this.#batches.get(key);
    if (cfg.isFirst !== undefined) {
      const first = cfg.isFirst(e) === true;
      if (first && batch !== undefined) {
        this.#flush(key, batch);
        batch = undefined;
      }
      batch = this.#append(key, batch, e, text, first);
      if (!batch.matched && batch.entries.length >= cfg.maxUnmatchedBatchSize) {
        this.#flush(key, batch);
      } else if (this.#full(batch)) this.#flush(key, batch);
      return;
    }
    const last = cfg.isLast!(e) === true;
    batch = this.#append(key, batch, e, text, true);
    if (last || this.#full(batch)) this.#flush(key, batch);
  }

  #full(b: Batch): boolean {
    const cfg = this.#cfg;
    return b.entries.length >= cfg.maxBatchSize || (cfg.maxLogSize > 0 && b.size >= cfg.maxLogSize);
  }

  #append(key: string, batch: Batch | undefined, e: Entry, text: string, matched: boolean): Batch {
    if (batch === undefined) {
      if (this.#batches.size >= this.#cfg.maxSources) {
        const [oldKey, old] = this.#batches.entries().next().value!;
        this.#flush(oldKey, old);
      }
      batch = { entries: [], parts: [], size: 0, lastAddMs: this.#now, matched };
      this.#batches.set(key, batch);
    }
    batch.entries.push(e);
    batch.parts.push(text);
    batch.size += text.length;
    batch.lastAddMs = this.#now;
    return batch;
  }

  #flush(key: string, b: Batch): void {
    this.#batches.delete(key);
    const base = this.#cfg.overwriteWithNewest ? b.entries[b.entries.length - 1]! : b.entries[0]!;
    base.src = b.entries[0]!.src;
    setField(base, this.#cfg.combineField, b.parts.join(this.#cfg.combineWith));
    this.emit(base);
  }

  override tick(nowMs: number): void {
    this.#now = nowMs;
    for (const [key, b] of this.#batches) {
      if (nowMs - b.lastAddMs >= this.#cfg.forceFlushMs) this.#flush(key, b);
    }
  }

  override flushAll(): void {
    for (const [key, b] of this.#batches) this.#flush(key, b);
  }

  override held(sourceId: number): EntrySource | undefined {
    let best: EntrySource | undefined;
    for (const b of this.#batches.values()) {
      for (const e of b.entries) {
        if (e.src?.sourceId === sourceId) best = earlier(best, e.src);
      }
    }
    return best;
  }
}

function expr(r: ConfigReader, key: string): Expr | undefined {
  const text = r.optionalString(key);
  if (text === undefined) return undefined;
  const c = compileExpr(text);
  if (c instanceof Error) {
    r.error(key, c.message);
    return () => false;
  }
  return c;
}

/** Parses a `recombine` operator. */
export function parseRecombine(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "recombine");
  if (!r.has("combine_field")) r.error("combine_field", "combine_field is required, e.g. body");
  const isFirst = expr(r, "is_first_entry");
  const isLast = expr(r, "is_last_entry");
  if ((isFirst === undefined) === (isLast === undefined)) {
    r.error(undefined, "Set exactly one of is_first_entry or is_last_entry");
  }
  const cfg: RecombineConfig = {
    combineField: readField(r, "combine_field", "body"),
    combineWith: r.string("combine_with", "\n"),
    isFirst,
    isLast: isLast ?? (isFirst === undefined ? () => true : undefined),
    maxBatchSize: r.int("max_batch_size", 1000, { min: 1 }),
    maxUnmatchedBatchSize: r.int("max_unmatched_batch_size", 100, { min: 0 }) || Infinity,
    overwriteWithNewest: r.enum("overwrite_with", ["oldest", "newest"] as const, "newest") ===
      "newest",
    forceFlushMs: r.duration("force_flush_period", 5000),
    sourceIdentifier: readField(r, "source_identifier", 'attributes["log.file.path"]'),
    maxSources: r.int("max_sources", 1000, { min: 1 }),
    maxLogSize: r.byteSize("max_log_size", 0),
  };
  return { common, build: (ctx) => new RecombineOperator(common, cfg, ctx) };
}
