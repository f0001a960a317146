/**
 * The operator model: each operator processes entries synchronously and hands them to its
 * outputs. Stateful operators (partial-line and multiline recombination) also report the
 * source of the oldest entry they still hold, so receivers never acknowledge unemitted data.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Logger } from "../../../core/telemetry/logger.ts";
import { cloneEntry, type Entry, type EntrySource } from "../entry.ts";
import { compileExpr, type Expr } from "../expr.ts";
import type { LineSink, RawLine } from "../raw_line.ts";

/** upstream's `on_error`. */
export type OnError = "send" | "send_quiet" | "drop" | "drop_quiet";

/** What every operator is built with. */
export interface BuildContext {
  readonly logger: Logger;
  /** Counts entries an operator failed on (for the receiver's own metric). */
  readonly countError: (operatorId: string) => void;
}

/**
 * An error thrown by the end of the chain (the receiver's batch builder). It passes through
 * every operator unchanged: it is not the entry's fault, so `on_error` does not apply.
 */
export class SinkError extends Error {
  /** Wraps what the sink threw. */
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "SinkError";
  }
}

/** Base class: routing to outputs, `if`, `on_error`. */
export abstract class Operator {
  readonly id: string;
  readonly type: string;
  outputs: Operator[] = [];
  readonly #if: Expr | undefined;
  readonly #onError: OnError;
  protected readonly ctx: BuildContext;

  constructor(common: CommonConfig, ctx: BuildContext) {
    this.id = common.id;
    this.type = common.type;
    this.#if = common.ifExpr;
    this.#onError = common.onError;
    this.ctx = ctx;
  }

  /** Whether the operator has an `if`: it then handles only some entries. */
  get conditional(): boolean {
    return this.#if !== undefined;
  }

  /**
   * Entry point: applies `if`, then `handle`. Whatever `if` or `handle` throws goes through
   * `on_error` (the entry is kept or dropped, never lost by accident); only errors of the
   * chain's end (the receiver itself) pass through.
   */
  process(e: Entry): void {
    try {
      if (this.#if !== undefined && this.#if(e) !== true) {
        this.emit(e);
        return;
      }
      this.handle(e);
    } catch (err) {
      if (err instanceof SinkError) throw err;
      this.fail(e, err instanceof Error ? err.message : String(err));
    }
  }

  /** The operator's work; call `emit` for what goes on. */
  protected abstract handle(e: Entry): void;

  /** Sends an entry to every output (copying it for all but the first). */
  emit(e: Entry): void {
    const outs = this.outputs;
    if (outs.length === 1) {
      outs[0]!.process(e);
      return;
    }
    for (let i = 1; i < outs.length; i++) outs[i]!.process(cloneEntry(e));
    if (outs.length > 0) outs[0]!.process(e);
  }

  /** Applies `on_error` to an entry the operator could not process. */
  protected fail(e: Entry, err: string): void {
    this.ctx.countError(this.id);
    const mode = this.#onError;
    if (mode === "send" || mode === "drop") {
      this.ctx.logger.error(`Failed to process entry: ${err}`, {
        operator_id: this.id,
        operator_type: this.type,
      });
    }
    if (mode === "send" || mode === "send_quiet") this.emit(e);
  }

  /**
   * The line lane (see raw_line.ts), set by an operator whose config allows one: writes the
   * record it would emit for `line` straight into `sink` (it is alone in its chain); false, with
   * nothing done, when it cannot (the line then comes as an entry).
   */
  takeLine?: (line: RawLine, sink: LineSink) => boolean;

  /** Emits whatever is held for longer than its flush period (called once per poll). */
  tick(_nowMs: number): void {}

  /** Emits everything held (shutdown). */
  flushAll(): void {}

  /** The source of the oldest entry held for `sourceId`, if any. */
  held(_sourceId: number): EntrySource | undefined {
    return undefined;
  }
}

/** Keys every operator has. */
export interface CommonConfig {
  readonly type: string;
  readonly id: string;
  /** Output ids as written; undefined = the next operator in the list. */
  readonly output: readonly string[] | undefined;
  readonly onError: OnError;
  readonly ifExpr: Expr | undefined;
}

/** Reads `type`, `id`, `output`, `on_error` and `if`. */
export function parseCommon(r: ConfigReader, type: string): CommonConfig {
  const id = r.string("id", type);
  const output = r.has("output") && r.raw("output") !== undefined
    ? r.stringList("output")
    : undefined;
  const onError = r.enum(
    "on_error",
    ["send", "send_quiet", "drop", "drop_quiet"] as const,
    "send",
  );
  const ifText = r.optionalString("if");
  let ifExpr: Expr | undefined;
  if (ifText !== undefined && ifText.trim() !== "") {
    const c = compileExpr(ifText);
    if (c instanceof Error) r.error("if", c.message);
    else ifExpr = c;
  }
  return { type, id, output, onError, ifExpr };
}

/** A parsed operator, ready to be built (once per receiver instance). */
export interface OperatorSpec {
  readonly common: CommonConfig;
  build(ctx: BuildContext): Operator;
}
