/**
 * `add`: sets a field to a literal (string, number, bool, map, list) or `EXPR(...)`.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import { toPlain } from "../../../core/config/node.ts";
import { cloneValue, type Entry, type Value } from "../entry.ts";
import { compileValueTemplate, type ValueTemplate } from "../expr.ts";
import { type Field, setField } from "../field.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";
import { readField } from "./parser.ts";

class AddOperator extends Operator {
  readonly #field: Field;
  readonly #value: ValueTemplate;
  constructor(common: CommonConfig, field: Field, value: ValueTemplate, ctx: BuildContext) {
    super(common, ctx);
    this.#field = field;
    this.#value = value;
  }
  protected handle(e: Entry): void {
    const v = this.#value.eval(e);
    setField(e, this.#field, v === undefined ? null : cloneValue(v));
    this.emit(e);
  }
}

/** Converts a YAML value into an entry value (whole numbers become ints, as upstream). */
export function plainToValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.map(plainToValue);
  if (typeof v === "object") {
    const out: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = plainToValue(x);
    return out;
  }
  return String(v);
}

/** Parses an `add` operator. */
export function parseAdd(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "add");
  if (!r.has("field")) r.error("field", "field is required");
  const field = readField(r, "field", "body");
  const node = r.raw("value");
  let value: ValueTemplate = { literal: true, eval: () => null };
  if (node === undefined) r.error("value", "value is required");
  else if (node.type === "scalar" && typeof node.value === "string") {
    const t = compileValueTemplate(node.value);
    if (t instanceof Error) r.error("value", t.message);
    else value = t;
  } else {
    const literal = plainToValue(toPlain(node));
    value = { literal: true, eval: () => literal };
  }
  return { common, build: (ctx) => new AddOperator(common, field, value, ctx) };
}
