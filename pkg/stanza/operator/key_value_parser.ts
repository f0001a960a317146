/**
 * `key_value_parser`: splits `k=v` pairs (separated by whitespace or `pair_delimiter`) into
 * string fields; quotes around values are removed.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Entry, ValueMap } from "../entry.ts";
import { fieldText, getField } from "../field.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";
import { finishParse, parseParserConfig, type ParserConfig } from "./parser.ts";

class KeyValueParser extends Operator {
  readonly #cfg: ParserConfig;
  readonly #delim: string;
  readonly #pairDelim: string | undefined;
  constructor(
    common: CommonConfig,
    cfg: ParserConfig,
    delim: string,
    pair: string | undefined,
    ctx: BuildContext,
  ) {
    super(common, ctx);
    this.#cfg = cfg;
    this.#delim = delim;
    this.#pairDelim = pair;
  }
  protected handle(e: Entry): void {
    const v = getField(e, this.#cfg.parseFrom);
    if (typeof v !== "string") {
      return this.fail(e, `field ${fieldText(this.#cfg.parseFrom)} is missing or not a string`);
    }
    const pairs = splitPairs(v, this.#pairDelim);
    const out: ValueMap = {};
    for (const p of pairs) {
      const i = p.indexOf(this.#delim);
      if (i <= 0) return this.fail(e, `cannot split ${JSON.stringify(p)} into key and value`);
      out[unquote(p.slice(0, i).trim())] = unquote(p.slice(i + this.#delim.length).trim());
    }
    const err = finishParse(e, this.#cfg, out);
    if (err !== undefined) return this.fail(e, err);
    this.emit(e);
  }
}

function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0]) {
    return s.slice(1, -1);
  }
  return s;
}

/** Splits on the pair delimiter (whitespace by default), keeping quoted runs together. */
function splitPairs(s: string, delim: string | undefined): string[] {
  const out: string[] = [];
  let cur = "";
  let quote = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote !== "") {
      cur += c;
      if (c === quote) quote = "";
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur += c;
      continue;
    }
    const isDelim = delim === undefined ? /\s/.test(c) : s.startsWith(delim, i);
    if (isDelim) {
      if (cur.trim() !== "") out.push(cur);
      cur = "";
      if (delim !== undefined) i += delim.length - 1;
    } else cur += c;
  }
  if (cur.trim() !== "") out.push(cur);
  return out;
}

/** Parses a `key_value_parser` operator. */
export function parseKeyValueParser(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "key_value_parser");
  const delim = r.string("delimiter", "=");
  const pair = r.optionalString("pair_delimiter");
  if (delim === "") r.error("delimiter", "delimiter must not be empty");
  if (pair !== undefined && pair === delim) {
    r.error("pair_delimiter", "pair_delimiter must differ from delimiter");
  }
  const cfg = parseParserConfig(r);
  return { common, build: (ctx) => new KeyValueParser(common, cfg, delim || "=", pair, ctx) };
}
