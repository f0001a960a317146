/**
 * `noop`: passes entries on unchanged (a join point for router outputs).
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Entry } from "../entry.ts";
import { Operator, type OperatorSpec, parseCommon } from "./operator.ts";

class NoopOperator extends Operator {
  protected handle(e: Entry): void {
    this.emit(e);
  }
}

/** Parses a `noop` operator. */
export function parseNoop(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "noop");
  return { common, build: (ctx) => new NoopOperator(common, ctx) };
}
