/**
 * `retain`: keeps only the listed fields of each root they belong to; roots without a
 * listed field are left as they are (as stanza).
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Entry } from "../entry.ts";
import { type Field, getField, parseField, setField } from "../field.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";

class RetainOperator extends Operator {
  readonly #fields: Field[];
  constructor(common: CommonConfig, fields: Field[], ctx: BuildContext) {
    super(common, ctx);
    this.#fields = fields;
  }
  protected handle(e: Entry): void {
    const roots = new Set(this.#fields.map((f) => f.root));
    const kept = this.#fields.map((f) => [f, getField(e, f)] as const);
    if (roots.has("body")) e.body = {};
    if (roots.has("attributes")) e.attributes = {};
    if (roots.has("resource")) {
      e.resource = {};
      e.resourceShared = false;
    }
    for (const [f, v] of kept) if (v !== undefined) setField(e, f, v);
    this.emit(e);
  }
}

/** Parses a `retain` operator. */
export function parseRetain(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "retain");
  const fields: Field[] = [];
  const list = r.stringList("fields");
  if (list.length === 0) r.error("fields", "fields is required: list the fields to keep");
  for (const text of list) {
    const f = parseField(text);
    if (f instanceof Error) r.error("fields", f.message);
    else if (f.path.length === 0) {
      r.error("fields", `Cannot retain a whole root (${text}): name fields under it`);
    } else fields.push(f);
  }
  return { common, build: (ctx) => new RetainOperator(common, fields, ctx) };
}
