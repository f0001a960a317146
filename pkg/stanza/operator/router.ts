/**
 * `router` and `filter`. The router sends each entry to the first route whose `expr` holds
 * (adding the route's `attributes`), else to `default`, else drops it. The filter drops
 * entries whose `expr` holds (a `drop_ratio` share of them).
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Entry } from "../entry.ts";
import { compileExpr, compileValueTemplate, type Expr, type ValueTemplate } from "../expr.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";

interface RouteSpec {
  readonly expr: Expr;
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, ValueTemplate>>;
}

/** A router; its outputs are resolved by the pipeline builder. */
export class RouterOperator extends Operator {
  readonly routes: readonly RouteSpec[];
  readonly defaults: readonly string[];
  routeOps: Operator[][] = [];
  defaultOps: Operator[] = [];

  constructor(common: CommonConfig, routes: RouteSpec[], defaults: string[], ctx: BuildContext) {
    super(common, ctx);
    this.routes = routes;
    this.defaults = defaults;
  }

  protected handle(e: Entry): void {
    for (let i = 0; i < this.routes.length; i++) {
      const route = this.routes[i]!;
      if (this.#matches(route, e)) {
        for (const [k, t] of Object.entries(route.attributes)) e.attributes[k] = t.eval(e) ?? null;
        this.#send(this.routeOps[i]!, e);
        return;
      }
    }
    this.#send(this.defaultOps, e);
  }

  /** A route whose expression fails does not match (the next route is tried), as upstream. */
  #matches(route: RouteSpec, e: Entry): boolean {
    try {
      return route.expr(e) === true;
    } catch (err) {
      this.ctx.logger.warn("Running expression returned an error", {
        operator_id: this.id,
        operator_type: this.type,
        error: (err as Error).message,
      });
      return false;
    }
  }

  /** An entry the router fails on (a route's attributes, `if`) follows `on_error` to `default`. */
  protected override fail(e: Entry, err: string): void {
    const saved = this.outputs;
    this.outputs = this.defaultOps;
    try {
      super.fail(e, err);
    } finally {
      this.outputs = saved;
    }
  }

  #send(ops: Operator[], e: Entry): void {
    const saved = this.outputs;
    this.outputs = ops;
    try {
      this.emit(e);
    } finally {
      this.outputs = saved;
    }
  }
}

/** Parses a `router` operator. */
export function parseRouter(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "router");
  const routes: RouteSpec[] = [];
  const list = r.list("routes");
  if (list.length === 0) r.error("routes", "routes is required: list {expr, output} entries");
  for (const rr of list) {
    const text = rr.string("expr", "");
    const c = compileExpr(text);
    if (c instanceof Error) rr.error("expr", c.message);
    const outputs = rr.stringList("output");
    if (outputs.length === 0) {
      rr.error("output", "output is required: the id of the operator to send to");
    }
    const attrs: Record<string, ValueTemplate> = {};
    const a = rr.section("attributes");
    for (const k of a.keys()) {
      const t = compileValueTemplate(a.string(k, ""));
      if (t instanceof Error) a.error(k, t.message);
      else attrs[k] = t;
    }
    routes.push({ expr: c instanceof Error ? () => false : c, outputs, attributes: attrs });
  }
  const defaults = r.stringList("default");
  return { common, build: (ctx) => new RouterOperator(common, routes, defaults, ctx) };
}

class FilterOperator extends Operator {
  readonly #expr: Expr;
  readonly #ratio: number;
  constructor(common: CommonConfig, expr: Expr, ratio: number, ctx: BuildContext) {
    super(common, ctx);
    this.#expr = expr;
    this.#ratio = ratio;
  }
  protected handle(e: Entry): void {
    if (this.#expr(e) === true && (this.#ratio >= 1 || Math.random() < this.#ratio)) return;
    this.emit(e);
  }
}

/** Parses a `filter` operator. */
export function parseFilter(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "filter");
  const text = r.optionalString("expr");
  let expr: Expr = () => false;
  if (text === undefined) {
    r.error("expr", "expr is required: entries for which it is true are dropped");
  } else {
    const c = compileExpr(text);
    if (c instanceof Error) r.error("expr", c.message);
    else expr = c;
  }
  const ratio = r.number("drop_ratio", 1, { min: 0, max: 1 });
  return { common, build: (ctx) => new FilterOperator(common, expr, ratio, ctx) };
}
