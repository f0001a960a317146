/**
 * `json_parser`: parses a JSON object string at `parse_from` into a map at `parse_to`.
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

class JsonParser extends Operator {
  readonly #cfg: ParserConfig;
  constructor(common: CommonConfig, cfg: ParserConfig, ctx: BuildContext) {
    super(common, ctx);
    this.#cfg = cfg;
  }
  protected handle(e: Entry): void {
    const v = getField(e, this.#cfg.parseFrom);
    if (v === undefined) return this.fail(e, `field ${fieldText(this.#cfg.parseFrom)} is missing`);
    let parsed: unknown;
    if (typeof v === "string") {
      try {
        parsed = JSON.parse(v);
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
  if (r.raw("parse_ints") !== undefined) r.bool("parse_ints", false);
  return { common, build: (ctx) => new JsonParser(common, cfg, ctx) };
}
