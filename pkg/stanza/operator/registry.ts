/**
 * Operator types by name, parsing of the `operators` list, and wiring of the built chain
 * (default output = next operator; the last one feeds the receiver).
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import { suggest } from "../../../core/config/reader.ts";
import { earlier, type Entry, type EntrySource } from "../entry.ts";
import type { LineLane, LineSink } from "../raw_line.ts";
import { parseAdd } from "./add.ts";
import { parseContainer } from "./container.ts";
import { parseFlatten } from "./flatten.ts";
import { parseJsonParser } from "./json_parser.ts";
import { parseKeyValueParser } from "./key_value_parser.ts";
import { parseCopy, parseMove } from "./move.ts";
import { parseNoop } from "./noop.ts";
import { type BuildContext, Operator, type OperatorSpec, SinkError } from "./operator.ts";
import { parseRecombine } from "./recombine.ts";
import { parseRegexParser } from "./regex_parser.ts";
import { parseRemove } from "./remove.ts";
import { parseRetain } from "./retain.ts";
import { parseFilter, parseRouter, RouterOperator } from "./router.ts";
import { parseSeverityParser, parseTimeParser } from "./time_parser.ts";

export type { OperatorSpec } from "./operator.ts";

const PARSERS: Record<string, (r: ConfigReader) => OperatorSpec> = {
  add: parseAdd,
  container: parseContainer,
  copy: parseCopy,
  filter: parseFilter,
  flatten: parseFlatten,
  json_parser: parseJsonParser,
  key_value_parser: parseKeyValueParser,
  move: parseMove,
  noop: parseNoop,
  recombine: parseRecombine,
  regex_parser: parseRegexParser,
  remove: parseRemove,
  retain: parseRetain,
  router: parseRouter,
  severity_parser: parseSeverityParser,
  time_parser: parseTimeParser,
};

/** Upstream operator types not implemented here: named in errors. */
const KNOWN_UPSTREAM = [
  "csv_parser",
  "syslog_parser",
  "uri_parser",
  "json_array_parser",
  "trace_parser",
  "scope_name_parser",
  "unquote",
  "assign_keys",
  "regex_replace",
  "stdout",
  "file_output",
  "key_value",
];

/**
 * Reads an operator list (`operators`, or `key` such as header's `metadata_operators`);
 * unknown types and bad wiring are errors with their path.
 */
export function parseOperators(r: ConfigReader, key = "operators"): OperatorSpec[] {
  const specs: OperatorSpec[] = [];
  const ids = new Set<string>();
  for (const or of r.list(key)) {
    const type = or.string("type", "");
    const parse = PARSERS[type];
    if (parse === undefined) {
      if (type === "") or.error("type", "type is required, e.g. type: container");
      else if (KNOWN_UPSTREAM.includes(type)) {
        or.error("type", `operator type ${JSON.stringify(type)} is not supported yet`);
      } else {
        const hint = suggest(type, Object.keys(PARSERS));
        or.error(
          "type",
          `operator type ${JSON.stringify(type)} is not supported yet${
            hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""
          }; supported: ${Object.keys(PARSERS).join(", ")}`,
        );
      }
      for (const k of or.keys()) or.known(k); // one error per unknown operator is enough
      continue;
    }
    const spec = parse(or);
    if (ids.has(spec.common.id)) {
      or.error(
        "id",
        `Duplicate operator id ${JSON.stringify(spec.common.id)}: give each operator a unique id`,
      );
    }
    ids.add(spec.common.id);
    specs.push(spec);
  }
  // Every named output must exist.
  for (const s of specs) {
    for (const out of s.common.output ?? []) {
      if (!ids.has(out)) {
        r.error(
          key,
          `Operator ${JSON.stringify(s.common.id)} outputs to unknown operator ${
            JSON.stringify(out)
          }`,
        );
      }
    }
  }
  return specs;
}

/** Receives what leaves the chain. */
class SinkOperator extends Operator {
  readonly #fn: (e: Entry) => void;
  constructor(fn: (e: Entry) => void, ctx: BuildContext) {
    super(
      { type: "sink", id: "$sink", output: undefined, onError: "send", ifExpr: undefined },
      ctx,
    );
    this.#fn = fn;
  }
  protected handle(e: Entry): void {
    this.#fn(e);
  }
  override process(e: Entry): void {
    try {
      this.#fn(e);
    } catch (err) {
      throw err instanceof SinkError ? err : new SinkError(err);
    }
  }
}

/** A built operator chain. */
export class Pipeline {
  readonly #head: Operator;
  readonly #ops: Operator[];

  /** Builds fresh operators from `specs`, feeding `sink` at the end. */
  constructor(specs: readonly OperatorSpec[], ctx: BuildContext, sink: (e: Entry) => void) {
    const end = new SinkOperator(sink, ctx);
    this.#ops = specs.map((s) => s.build(ctx));
    const byId = new Map(this.#ops.map((o) => [o.id, o]));
    const resolve = (ids: readonly string[]): Operator[] =>
      ids.map((id) => byId.get(id)!).filter((o) => o);
    this.#ops.forEach((op, i) => {
      const next = this.#ops[i + 1] ?? end;
      const out = specs[i]!.common.output;
      op.outputs = out === undefined ? [next] : resolve(out);
      if (op instanceof RouterOperator) {
        op.routeOps = op.routes.map((rt) => resolve(rt.outputs));
        op.defaultOps = resolve(op.defaults);
      }
    });
    this.#head = this.#ops[0] ?? end;
  }

  /** Sends one entry into the chain. */
  process(e: Entry): void {
    this.#head.process(e);
  }

  /**
   * The line lane (see raw_line.ts) into `sink`, for a chain of one operator without `if`
   * that can take lines; undefined for any other chain.
   */
  lineLane(sink: LineSink): LineLane | undefined {
    const op = this.#ops[0];
    const take = op?.takeLine;
    if (
      take === undefined || this.#ops.length !== 1 || op!.conditional ||
      op!.outputs.length !== 1 || !(op!.outputs[0] instanceof SinkOperator)
    ) {
      return undefined;
    }
    return (line) => take(line, sink);
  }

  /** Time-based flushes of held entries. */
  tick(nowMs: number): void {
    for (const op of this.#ops) op.tick(nowMs);
  }

  /** Emits everything held. */
  flushAll(): void {
    for (const op of this.#ops) op.flushAll();
  }

  /** The source of the oldest entry any operator still holds for `sourceId`. */
  held(sourceId: number): EntrySource | undefined {
    let best: EntrySource | undefined;
    for (const op of this.#ops) best = earlier(best, op.held(sourceId));
    return best;
  }
}
