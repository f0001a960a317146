/**
 * The filter processor's top-level `log_conditions` (upstream's newer form). Either a flat
 * list of conditions, one group whose context is inferred from the paths' context names:
 *
 *     log_conditions:
 *       - 'resource.attributes["k8s.namespace.name"] == "kube-system"'
 *       - 'log.severity_number < SEVERITY_NUMBER_INFO'
 *
 * or a list of groups, each with an optional `context` (`log`, `scope`, `resource`; paths
 * without a context name are read in it), `conditions` and an `error_mode` overriding the
 * processor's. A group in the `resource` context drops whole resources, one in `scope` whole
 * scopes, one in `log` single records.
 *
 * @module
 */

import type { ConfigNode, Position } from "../../core/config/node.ts";
import type { ConfigReader } from "../../core/config/reader.ts";
import {
  compileConditionGroup,
  CONDITION_CONTEXTS,
  type ConditionContext,
  type ConfiguredCondition,
  ERROR_MODES,
  type ErrorMode,
} from "../../pkg/ottl/mod.ts";

/** One compiled group of conditions: any true drops the item of its context's level. */
export interface ConditionGroup {
  readonly context: ConditionContext;
  readonly errorMode: ErrorMode;
  readonly conditions: readonly ConfiguredCondition[];
}

/** A condition's text with where it was written, for errors. */
interface Written {
  readonly text: string;
  readonly path: string;
  readonly pos: Position | undefined;
}

const KEY = "log_conditions";

/** Reads a list of condition strings at `path` (a single string counts as a list of one). */
function readTexts(
  r: ConfigReader,
  node: ConfigNode,
  path: string,
  fallback: Position | undefined,
): Written[] {
  if (node.type === "map") {
    r.issues.error(path, "Expected a list of conditions (strings)", node.pos ?? fallback);
    return [];
  }
  const items = node.type === "seq" ? node.items : [node];
  const out: Written[] = [];
  items.forEach((item, i) => {
    const itemPath = node.type === "seq" ? `${path}::${i}` : path;
    if (item.type !== "scalar" || item.value === null) {
      const message = item.type === "scalar"
        ? "condition cannot be empty: write a condition (a string)"
        : "Expected a condition (a string)";
      r.issues.error(itemPath, message, item.pos ?? fallback);
      return;
    }
    const text = typeof item.value === "string" ? item.value : item.raw;
    out.push({ text, path: itemPath, pos: item.pos ?? fallback });
  });
  return out;
}

/** Compiles one group and reports its errors at the conditions' (or the group's) paths. */
function compileGroup(
  r: ConfigReader,
  written: readonly Written[],
  context: ConditionContext | undefined,
  errorMode: ErrorMode,
  groupPath: string,
  groupPos: Position | undefined,
): ConditionGroup | undefined {
  const group = compileConditionGroup(written.map((w) => w.text), context);
  for (const e of group.errors) {
    if (e.index === undefined) {
      r.issues.error(
        groupPath,
        `${e.message}: prefix every path with its context (log., resource., scope.) or write the group's context`,
        groupPos,
      );
    } else {
      const w = written[e.index]!;
      r.issues.error(w.path, `Condition '${w.text}': ${e.message}`, w.pos);
    }
  }
  if (group.errors.length > 0) return undefined;
  return { context: group.context, errorMode, conditions: group.conditions };
}

/** Reads `log_conditions` in either style; `errorMode` is the processor's. */
export function readLogConditions(r: ConfigReader, errorMode: ErrorMode): ConditionGroup[] {
  const node = r.raw(KEY);
  if (node === undefined) return [];
  const path = r.childPath(KEY);
  if (node.type !== "seq") {
    r.error(
      KEY,
      "Expected a list: conditions (strings), or groups with context, conditions and error_mode",
    );
    return [];
  }
  const flat = node.items.filter((i) => i.type !== "map");
  if (flat.length > 0 && flat.length < node.items.length) {
    r.error(
      KEY,
      "configuring multiple configuration styles is not supported, please use only Basic configuration or only Advanced configuration: write either only condition strings or only groups",
    );
    return [];
  }
  if (flat.length > 0) {
    const written = readTexts(r, node, path, r.posOf(KEY));
    if (written.length < node.items.length) return [];
    const group = compileGroup(r, written, undefined, errorMode, path, r.posOf(KEY));
    return group === undefined ? [] : [group];
  }
  const groups: ConditionGroup[] = [];
  r.list(KEY).forEach((g) => {
    const rawContext = g.optionalString("context");
    let context: ConditionContext | undefined;
    if (rawContext !== undefined) {
      context = CONDITION_CONTEXTS.find((c) => c === rawContext.toLowerCase());
      if (context === undefined) {
        g.error(
          "context",
          `Unknown context "${rawContext}" for log conditions: use one of ${
            CONDITION_CONTEXTS.join(", ")
          }, or leave it out to infer it from the paths`,
        );
        return;
      }
    }
    const mode = g.has("error_mode") ? g.enum("error_mode", ERROR_MODES, errorMode) : errorMode;
    const conditions = g.raw("conditions");
    if (conditions === undefined) {
      g.error(undefined, 'Missing "conditions": list the conditions of this group');
      return;
    }
    const written = readTexts(r, conditions, g.childPath("conditions"), g.posOf("conditions"));
    const group = compileGroup(r, written, context, mode, g.path, g.pos);
    if (group !== undefined) groups.push(group);
  });
  return groups;
}
