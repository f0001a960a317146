/**
 * Groups of conditions whose paths name their context (`log.body`, `resource.attributes[…]`,
 * `scope.name`), as upstream's parser collections compile them for the filter processor's
 * `log_conditions`. A group without a written `context` gets the one its paths name, by
 * upstream's priority (log, then resource, then scope); every path must then carry a
 * context name. A group with a written `context` reads unprefixed paths in that context.
 *
 * @module
 */

import { compileContextCondition, type Condition } from "./compile.ts";
import { OttlSyntaxError } from "./lexer.ts";
import { type BoolNode, parseCondition, type ValueNode } from "./parser.ts";
import { type ConditionContext, pathContextName } from "./paths.ts";

/** Upstream's inference priority among the contexts a logs pipeline has (first wins). */
const PRIORITY = ["log", "resource", "scope", "instrumentation_scope"];

/** The contexts a condition group can run in. */
export const CONDITION_CONTEXTS: readonly ConditionContext[] = ["log", "resource", "scope"];

/** What the paths and enums of a group say about its context. */
interface Hints {
  readonly contexts: Set<string>;
  enums: boolean;
}

function visitValue(v: ValueNode, h: Hints): void {
  switch (v.type) {
    case "path": {
      const name = pathContextName(v);
      if (name !== undefined) h.contexts.add(name);
      return;
    }
    case "enum":
      h.enums = true;
      return;
    case "call":
      for (const a of v.args) visitValue(a, h);
      return;
    case "list":
      for (const a of v.items) visitValue(a, h);
      return;
  }
}

function visitBool(b: BoolNode, h: Hints): void {
  switch (b.type) {
    case "or":
    case "and":
      for (const t of b.terms) visitBool(t, h);
      return;
    case "not":
      visitBool(b.expr, h);
      return;
    case "compare":
      visitValue(b.left, h);
      visitValue(b.right, h);
      return;
    case "converter":
      visitValue(b.call, h);
      return;
  }
}

function quoted(items: readonly string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(" ")}]`;
}

/**
 * The context of a group without a written one: the highest-priority context any path
 * names. Only the log context has the `SEVERITY_NUMBER_*` enums, so a group using one falls
 * back to it, as upstream falls back to a lower context that knows every enum. Gives an
 * error in upstream's wording when no supported context can be inferred.
 */
export function inferContext(
  trees: readonly BoolNode[],
  texts: readonly string[],
): { context: ConditionContext } | { error: string } {
  const hints: Hints = { contexts: new Set(), enums: false };
  for (const t of trees) visitBool(t, hints);
  let best: string | undefined;
  let bestRank = Infinity;
  for (const name of hints.contexts) {
    const rank = PRIORITY.includes(name) ? PRIORITY.indexOf(name) : PRIORITY.length;
    if (rank < bestRank) [best, bestRank] = [name, rank];
  }
  if (best === undefined) {
    return {
      error:
        `unable to infer context from conditions, path's first segment must be a valid context name: ${
          quoted(CONDITION_CONTEXTS)
        }, and at least one context must be capable of parsing all conditions: ${quoted(texts)}`,
    };
  }
  // The older name of the scope context (upstream accepts both as a path's context name).
  const context = best === "instrumentation_scope" ? "scope" : best;
  if (!(CONDITION_CONTEXTS as readonly string[]).includes(context)) {
    return {
      error: `context "${best}" inferred from the conditions ${
        quoted(texts)
      } is not a supported context: ${quoted(CONDITION_CONTEXTS)}`,
    };
  }
  return { context: hints.enums ? "log" : context as ConditionContext };
}

/** A compiled group, or what is wrong with it: per condition (`index`) or as a whole. */
export interface CompiledGroup {
  readonly context: ConditionContext;
  /** One per condition that compiled, in order. */
  readonly conditions: readonly { readonly text: string; readonly eval: Condition }[];
  readonly errors: readonly { readonly index: number | undefined; readonly message: string }[];
}

/**
 * Parses, places and compiles a group of conditions. `context` is the group's written
 * context, or undefined to infer it from the paths.
 */
export function compileConditionGroup(
  texts: readonly string[],
  context: ConditionContext | undefined,
): CompiledGroup {
  const errors: { index: number | undefined; message: string }[] = [];
  const trees: (BoolNode | undefined)[] = texts.map((text, index) => {
    try {
      return parseCondition(text);
    } catch (err) {
      if (!(err instanceof OttlSyntaxError)) throw err;
      errors.push({ index, message: err.message });
      return undefined;
    }
  });
  const parsed = trees.filter((t) => t !== undefined);
  let placed = context;
  if (placed === undefined) {
    if (errors.length > 0) return { context: "log", conditions: [], errors };
    const inferred = inferContext(parsed, texts);
    if ("error" in inferred) {
      return {
        context: "log",
        conditions: [],
        errors: [{ index: undefined, message: inferred.error }],
      };
    }
    placed = inferred.context;
  }
  const conditions: { text: string; eval: Condition }[] = [];
  trees.forEach((tree, index) => {
    if (tree === undefined) return;
    try {
      conditions.push({
        text: texts[index]!,
        eval: compileContextCondition(tree, placed, context !== undefined),
      });
    } catch (err) {
      if (!(err instanceof OttlSyntaxError)) throw err;
      errors.push({ index, message: err.message });
    }
  });
  return { context: placed, conditions, errors };
}
