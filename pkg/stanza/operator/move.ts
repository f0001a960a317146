/**
 * `move` and `copy`: move (or copy) a field, also across body, attributes and resource.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import { cloneValue, type Entry } from "../entry.ts";
import { deleteField, type Field, fieldText, getField, setField } from "../field.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";
import { readField } from "./parser.ts";

class MoveOperator extends Operator {
  readonly #from: Field;
  readonly #to: Field;
  readonly #keep: boolean;
  constructor(common: CommonConfig, from: Field, to: Field, keep: boolean, ctx: BuildContext) {
    super(common, ctx);
    this.#from = from;
    this.#to = to;
    this.#keep = keep;
  }
  protected handle(e: Entry): void {
    const v = this.#keep ? getField(e, this.#from) : deleteField(e, this.#from);
    if (v === undefined) return this.fail(e, `field ${fieldText(this.#from)} does not exist`);
    setField(e, this.#to, this.#keep ? cloneValue(v) : v);
    this.emit(e);
  }
}

function parse(r: ConfigReader, type: "move" | "copy"): OperatorSpec {
  const common = parseCommon(r, type);
  if (!r.has("from")) r.error("from", "from is required");
  if (!r.has("to")) r.error("to", "to is required");
  const from = readField(r, "from", "body");
  const to = readField(r, "to", "body");
  return { common, build: (ctx) => new MoveOperator(common, from, to, type === "copy", ctx) };
}

/** Parses a `move` operator. */
export function parseMove(r: ConfigReader): OperatorSpec {
  return parse(r, "move");
}

/** Parses a `copy` operator. */
export function parseCopy(r: ConfigReader): OperatorSpec {
  return parse(r, "copy");
}
