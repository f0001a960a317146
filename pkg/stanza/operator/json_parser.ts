/**
 * `json_parser`: parses a JSON object string at `parse_from` into a map at `parse_to`; with
 * `parse_ints`, integers become int64 values (exactly) instead of doubles.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Entry, Value } from "../entry.ts";
import { fieldText, getField } from "../field.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";
import { finishParse, parseParserConfig, type ParserConfig } from "./parser.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * `parse_ints` reviver: a number written as an integer that fits int64 becomes a bigint
 * from its source text (exact beyond 2^53); anything else stays a double, as upstream's
 * json.Number conversion (Int64, else Float64).
 */
function reviveInt(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number") return value;
  const src = context?.source;
  if (src === undefined || !/^-?\d+$/.test(src)) return value;
  const n = BigInt(src);
  return n >= INT64_MIN && n <= INT64_MAX ? n : value;
}

type Reviver = (this: unknown, key: string, value: unknown) => unknown;

class JsonParser extends Operator {
  readonly #cfg: ParserConfig;
  readonly #reviver: Reviver | undefined;
  constructor(common: CommonConfig, cfg: ParserConfig, parseInts: boolean, ctx: BuildContext) {
    super(common, ctx);
    this.#cfg = cfg;
    this.#reviver = parseInts ? reviveInt as Reviver : undefined;
  }
  protected handle(e: Entry): void {
    const v = getField(e, this.#cfg.parseFrom);
    if (v === undefined) return this.fail(e, `field ${fieldText(this.#cfg.parseFrom)} is missing`);
    let parsed: unknown;
    if (typeof v === "string") {
      try {
        parsed = JSON.parse(v, this.#reviver);
      } catch (err) {
        return this.fail(e, `invalid JSON: ${(err as Error).message}`);
      }
    } else parsed = v;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return this.fail(e, "JSON value is not an object");
    }
    const err = finishParse(e, this.#cfg, parsed as Value);
    if (err !== undefined) return this.fail(e, err);
    this.emit(e);
  }
}

/** Parses a `json_parser` operator. */
export function parseJsonParser(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "json_parser");
  const cfg = parseParserConfig(r);
  const parseInts = r.bool("parse_ints", false);
  return { common, build: (ctx) => new JsonParser(common, cfg, parseInts, ctx) };
}
