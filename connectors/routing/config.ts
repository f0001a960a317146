/**
 * Config of the `routing` connector, as upstream's `routingconnector.Config`: a `table` of
 * routes (`context`, `condition` or `statement`, `pipelines`), `default_pipelines`,
 * `error_mode`, and the `match_once` key upstream removed in v0.120.0.
 *
 * @module
 */

import type { PipelineReference } from "../../core/component.ts";
import type { ConfigReader } from "../../core/config/reader.ts";
import {
  compileCondition,
  compileConditionGroup,
  type Condition,
  ERROR_MODES,
  type ErrorMode,
  OttlSyntaxError,
} from "../../pkg/ottl/mod.ts";

/** The OTTL contexts a route can be evaluated in. */
export type RouteContext = "resource" | "log" | "request";

const CONTEXTS: readonly RouteContext[] = ["resource", "log", "request"];

/** Contexts upstream has for other signals or that this collector does not read. */
const OTHER_CONTEXTS: Readonly<Record<string, string>> = {
  span: "traces",
  spanevent: "traces",
  metric: "metrics",
  datapoint: "metrics",
  profile: "profiles",
};

/** One entry of the routing table, compiled. */
export interface Route {
  readonly context: RouteContext;
  /** The condition as written (a statement's `where` clause), for logs. */
  readonly text: string;
  readonly condition: Condition;
  /** Pipeline ids, each once, in the order written. */
  readonly pipelines: readonly string[];
  /** The index in `table` as written (duplicates removed from `routes` keep their index). */
  readonly index: number;
}

/** The connector's typed config. */
export interface RoutingConfig {
  /** The routes in table order, duplicates left out. */
  readonly routes: readonly Route[];
  /** Where records no route matches go; none means they are dropped. */
  readonly defaultPipelines: readonly string[];
  /** What an error evaluating a condition does. @default "propagate" */
  readonly errorMode: ErrorMode;
  /**
   * true (the default, upstream's only behaviour since v0.120.0): a record goes to the first
   * route that matches. false: to every route that matches.
   */
  readonly matchOnce: boolean;
  /** Every pipeline id the config names, with its key (for the config check). */
  readonly references: readonly PipelineReference[];
}

// `route()` optionally followed by `where <condition>`: the only statement upstream routes by.
const STATEMENT = /^(\s*route\s*\(\s*\)\s*)(?:where\b(.*))?$/s;

/** Reads the connector's section and validates it as upstream does. */
export function parseRoutingConfig(r: ConfigReader): RoutingConfig {
  const errorMode = r.enum("error_mode", ERROR_MODES, "propagate");
  const matchOnce = readMatchOnce(r);
  const defaultPipelines = unique(r.stringList("default_pipelines"));
  const references: PipelineReference[] = defaultPipelines.map((pipeline) => ({
    key: "default_pipelines",
    pipeline,
    pos: r.posOf("default_pipelines"),
  }));
  const routes: Route[] = [];
  const tableNode = r.raw("table");
  const items = r.list("table");
  if (tableNode === undefined) {
    r.error(
      undefined,
      "The routing table is missing: add `table` with at least one route (condition and pipelines)",
    );
  } else if (tableNode.type === "seq" && tableNode.items.length === 0) {
    r.error(
      "table",
      "The routing table is empty: add at least one route (condition and pipelines)",
    );
  }
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    if (item.node === undefined) {
      // A non-map item was reported by the reader; an empty one (`- `) is reported here.
      const raw = tableNode?.type === "seq" ? tableNode.items[index] : undefined;
      if (raw?.type === "scalar" && raw.value === null) {
        item.error(undefined, `Route #${index} is empty: write its condition and pipelines`);
      }
      return;
    }
    const { route, pipelines } = readRoute(item, index);
    // Checked even when the route has other errors, so that every mistake shows at once.
    for (const pipeline of pipelines) {
      references.push({
        key: `table::${index}::pipelines`,
        pipeline,
        pos: item.posOf("pipelines"),
      });
    }
    if (route === undefined) return;
    const key = `${route.context}\u0000${route.text.trim()}`;
    const first = seen.get(key);
    if (first !== undefined) {
      // As upstream: the later copy of a route is ignored (with first-match it never matches).
      item.warn(
        undefined,
        `Route #${index} repeats the condition of route #${first} in the ${route.context} context; it is ignored (its pipelines get nothing from it)`,
      );
      return;
    }
    seen.set(key, index);
    routes.push(route);
  });
  return { routes, defaultPipelines, errorMode, matchOnce, references };
}

function readMatchOnce(r: ConfigReader): boolean {
  if (!r.has("match_once")) return true;
  const matchOnce = r.bool("match_once", true);
  r.warn(
    "match_once",
    matchOnce
      ? "Upstream removed match_once in v0.120.0: first-match (true) is the only behaviour it keeps, and upstream collectors since then refuse the key. Remove it"
      : "Upstream removed match_once in v0.120.0 and routes each record to the first matching route only; here match_once: false still sends a record to every route that matches. Migrate to one routing connector per independent set of routes",
  );
  return matchOnce;
}

function readRoute(
  item: ConfigReader,
  index: number,
): { route: Route | undefined; pipelines: string[] } {
  const context = readContext(item);
  const condition = nonEmpty(item.optionalString("condition"));
  const statement = nonEmpty(item.optionalString("statement"));
  const pipelines = unique(item.stringList("pipelines"));
  const none = { route: undefined, pipelines };
  let ok = context !== "invalid";
  if (pipelines.length === 0) {
    item.error(
      item.has("pipelines") ? "pipelines" : undefined,
      `Route #${index} has no pipelines: list the pipelines its records go to under \`pipelines\``,
    );
    ok = false;
  }
  if (condition === undefined && statement === undefined) {
    item.error(
      undefined,
      `Route #${index} has neither a condition nor a statement: write exactly one of them`,
    );
    return none;
  }
  if (condition !== undefined && statement !== undefined) {
    item.error(
      "statement",
      `Route #${index} has both a condition and a statement: write exactly one of them`,
    );
    return none;
  }
  if (context === "invalid") return none;
  let compiled: Compiled | undefined;
  if (statement !== undefined) {
    if (context === "request") {
      item.error(
        "statement",
        'The request context takes a condition, not a statement: write `condition: request["<header>"] == "<value>"`',
      );
      return none;
    }
    compiled = compileStatement(item, statement, context);
  } else {
    compiled = compile(item, "condition", condition!, 0, context);
  }
  return { route: ok && compiled ? { ...compiled, pipelines, index } : undefined, pipelines };
}

/** The route's written context, undefined when not written, "invalid" after reporting it. */
function readContext(item: ConfigReader): RouteContext | undefined | "invalid" {
  const text = nonEmpty(item.optionalString("context"));
  if (text === undefined) return undefined;
  if ((CONTEXTS as readonly string[]).includes(text)) return text as RouteContext;
  item.error(
    "context",
    Object.hasOwn(OTHER_CONTEXTS, text)
      ? `The ${text} context applies to ${
        OTHER_CONTEXTS[text]
      } only; this collector routes logs: use one of "resource", "log", "request"`
      : `Invalid context ${
        JSON.stringify(text)
      }: must be one of "resource" (the default), "log", "request"`,
  );
  return "invalid";
}

/** A compiled condition, the context it runs in and its text. */
type Compiled = Pick<Route, "context" | "text" | "condition">;

function compileStatement(
  item: ConfigReader,
  statement: string,
  context: RouteContext | undefined,
): Compiled | undefined {
  const m = STATEMENT.exec(statement);
  if (m === null) {
    item.error(
      "statement",
      `Statement '${statement}': the only statement a route takes is \`route() where <condition>\` (or write the condition under \`condition\`)`,
    );
    return undefined;
  }
  if (m[2] === undefined) return compile(item, "statement", "true", 0, context);
  return compile(item, "statement", m[2], m[1]!.length + "where".length, context);
}

/**
 * Compiles `text` in `written`, or without a written context as upstream: in the context its
 * paths name (`log.body`, `resource.attributes[…]`), else in the resource context. A syntax
 * error is reported at `key` with its column in the written value.
 */
function compile(
  item: ConfigReader,
  key: string,
  text: string,
  offset: number,
  written: RouteContext | undefined,
): Compiled | undefined {
  const context = written ?? "resource";
  try {
    return { context, text: text.trim(), condition: compileCondition(text, context) };
  } catch (err) {
    if (!(err instanceof OttlSyntaxError)) throw err;
    if (written === undefined) {
      const inferred = compileConditionGroup([text], undefined);
      const { context } = inferred;
      if (inferred.errors.length === 0 && (context === "log" || context === "resource")) {
        return { context, text: text.trim(), condition: inferred.conditions[0]!.eval };
      }
    }
    const what = err.message.replace(/ at column \d+$/, "");
    item.error(
      key,
      `${key === "statement" ? "Statement" : "Condition"} '${
        item.optionalString(key)
      }': ${what} at column ${err.col + offset}`,
    );
    return undefined;
  }
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === "" ? undefined : text;
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
