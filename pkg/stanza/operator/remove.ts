/**
 * `remove`: deletes a field, or clears a whole `attributes` / `resource` / `body`.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Entry } from "../entry.ts";
import { deleteField, type Field, fieldText } from "../field.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";
import { readField } from "./parser.ts";

class RemoveOperator extends Operator {
  readonly #field: Field;
  constructor(common: CommonConfig, field: Field, ctx: BuildContext) {
    super(common, ctx);
    this.#field = field;
  }
  protected handle(e: Entry): void {
    const old = deleteField(e, this.#field);
    if (old === undefined) return this.fail(e, `field ${fieldText(this.#field)} does not exist`);
    this.emit(e);
  }
}

/** Parses a `remove` operator. */
export function parseRemove(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "remove");
  if (!r.has("field")) r.error("field", "field is required");
  const field = readField(r, "field", "body");
  return { common, build: (ctx) => new RemoveOperator(common, field, ctx) };
}
