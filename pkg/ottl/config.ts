/**
 * Reading conditions and `error_mode` from a component's config, shared by the filter
 * processor and the routing connector.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import { compileCondition, type Condition } from "./compile.ts";
import { OttlSyntaxError } from "./lexer.ts";
import type { OttlContextName } from "./paths.ts";

/** How a component reacts to an error while evaluating a condition (upstream's `ottl.ErrorMode`). */
export type ErrorMode = "propagate" | "ignore" | "silent";

/** The values of `error_mode`. */
export const ERROR_MODES: readonly ErrorMode[] = ["propagate", "ignore", "silent"];

/** One compiled condition and the text it came from (for logs). */
export interface ConfiguredCondition {
  readonly text: string;
  readonly eval: Condition;
}

/**
 * Reads the list of conditions under `key` and compiles each one. A condition that does not
 * compile is a config error at `<path>::<key>::<index>` saying what and at which column.
 */
export function readConditions(
  r: ConfigReader,
  key: string,
  context: OttlContextName = "log",
): ConfiguredCondition[] {
  const node = r.raw(key);
  if (node === undefined) return [];
  if (node.type === "map") {
    r.error(key, "Expected a list of conditions (strings)");
    return [];
  }
  const out: ConfiguredCondition[] = [];
  const items = node.type === "seq" ? node.items : [node];
  items.forEach((item, i) => {
    const path = node.type === "seq" ? `${r.childPath(key)}::${i}` : r.childPath(key);
    if (item.type !== "scalar" || item.value === null) {
      r.issues.error(path, "Expected a condition (a string)", item.pos ?? r.posOf(key));
      return;
    }
    const text = typeof item.value === "string" ? item.value : item.raw;
    try {
      out.push({ text, eval: compileCondition(text, context) });
    } catch (err) {
      if (!(err instanceof OttlSyntaxError)) throw err;
      r.issues.error(
        path,
        `Condition '${text}': ${err.message}`,
        item.pos ?? r.posOf(key),
      );
    }
  });
  return out;
}
