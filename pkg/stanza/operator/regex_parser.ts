/**
 * `regex_parser`: named groups of `regex` (Go `(?P<name>…)` accepted) become string fields
 * at `parse_to`; an optional FIFO cache (`cache.size`) skips matching repeated values.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Entry, ValueMap } from "../entry.ts";
import { fieldText, getField } from "../field.ts";
import { compileGoRegex, hasNamedGroup } from "../../../core/regex/go_regex.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";
import { finishParse, parseParserConfig, type ParserConfig } from "./parser.ts";

class RegexParser extends Operator {
  readonly #cfg: ParserConfig;
  readonly #re: RegExp;
  readonly #cacheSize: number;
  readonly #cache = new Map<string, ValueMap | null>();
  constructor(
    common: CommonConfig,
    cfg: ParserConfig,
    re: RegExp,
    cacheSize: number,
    ctx: BuildContext,
  ) {
    super(common, ctx);
    this.#cfg = cfg;
    this.#re = re;
    this.#cacheSize = cacheSize;
  }
  #match(s: string): ValueMap | null {
    const hit = this.#cacheSize > 0 ? this.#cache.get(s) : undefined;
    if (hit !== undefined) return hit === null ? null : { ...hit };
    const m = this.#re.exec(s);
    let out: ValueMap | null = null;
    if (m !== null) {
      out = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) out[k] = v;
    }
    if (this.#cacheSize > 0) {
      if (this.#cache.size >= this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(s, out);
      if (out !== null) return { ...out };
    }
    return out;
  }
  protected handle(e: Entry): void {
    const v = getField(e, this.#cfg.parseFrom);
    if (typeof v !== "string") {
      return this.fail(e, `field ${fieldText(this.#cfg.parseFrom)} is missing or not a string`);
    }
    const parsed = this.#match(v);
    if (parsed === null) return this.fail(e, "regex pattern does not match");
    const err = finishParse(e, this.#cfg, parsed);
    if (err !== undefined) return this.fail(e, err);
    this.emit(e);
  }
}

/** Compiles a Go-syntax regex; reports errors at `key`. */
export function readGoRegex(r: ConfigReader, key: string, text: string): RegExp | undefined {
  try {
    return compileGoRegex(text);
  } catch (err) {
    r.error(key, (err as Error).message);
    return undefined;
  }
}

/** Parses a `regex_parser` operator. */
export function parseRegexParser(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "regex_parser");
  const text = r.optionalString("regex");
  let re: RegExp | undefined;
  if (text === undefined) {
    r.error("regex", "regex is required, e.g. '^(?P<level>\\w+) (?P<msg>.*)$'");
  } else {
    re = readGoRegex(r, "regex", text);
    if (re !== undefined && !hasNamedGroup(re)) {
      r.error("regex", "regex must contain at least one named capture group, e.g. (?P<name>...)");
    }
  }
  const cacheSize = r.section("cache").int("size", 0, { min: 0 });
  const cfg = parseParserConfig(r);
  return {
    common,
    build: (ctx) => new RegexParser(common, cfg, re ?? /$^/, cacheSize, ctx),
  };
}
