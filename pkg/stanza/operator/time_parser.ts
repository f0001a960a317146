/**
 * `time_parser` and `severity_parser`: standalone versions of the embedded blocks.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Entry } from "../entry.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";
import { parseSeveritySpec, parseTimeSpec } from "./parser.ts";

class ApplyOperator extends Operator {
  readonly #apply: (e: Entry) => string | undefined;
  constructor(common: CommonConfig, apply: (e: Entry) => string | undefined, ctx: BuildContext) {
    super(common, ctx);
    this.#apply = apply;
  }
  protected handle(e: Entry): void {
    const err = this.#apply(e);
    if (err !== undefined) return this.fail(e, err);
    this.emit(e);
  }
}

/** Parses a `time_parser` operator. */
export function parseTimeParser(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "time_parser");
  const spec = parseTimeSpec(r, "body.time");
  const apply = spec ? (e: Entry) => spec.apply(e) : () => "time_parser is misconfigured";
  return { common, build: (ctx) => new ApplyOperator(common, apply, ctx) };
}

/** Parses a `severity_parser` operator. */
export function parseSeverityParser(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "severity_parser");
  const spec = parseSeveritySpec(r, "body.severity");
  return { common, build: (ctx) => new ApplyOperator(common, (e) => spec.apply(e), ctx) };
}
