/**
 * `flatten`: raises the children of a body map by one level.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import { type Entry, isMap } from "../entry.ts";
import { deleteField, type Field, fieldText, getField, setField } from "../field.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";
import { readField } from "./parser.ts";

class FlattenOperator extends Operator {
  readonly #field: Field;
  constructor(common: CommonConfig, field: Field, ctx: BuildContext) {
    super(common, ctx);
    this.#field = field;
  }
  protected handle(e: Entry): void {
    const v = getField(e, this.#field);
    if (!isMap(v)) return this.fail(e, `field ${fieldText(this.#field)} is not a map`);
    deleteField(e, this.#field);
    const parent = this.#field.path.slice(0, -1);
    for (const [k, x] of Object.entries(v)) {
      setField(e, { root: this.#field.root, path: [...parent, k], text: k }, x);
    }
    this.emit(e);
  }
}

/** Parses a `flatten` operator. */
export function parseFlatten(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "flatten");
  if (!r.has("field")) r.error("field", "field is required");
  const field = readField(r, "field", "body.x");
  if (field.path.length === 0) {
    r.error("field", "field must name a map under body, e.g. body.nested");
  }
  return { common, build: (ctx) => new FlattenOperator(common, field, ctx) };
}
