/**
 * Reading and validating attribute actions (upstream's `internal/coreinternal/attraction`
 * settings), shared by the attributes processor (`actions`) and the resource processor
 * (`attributes`). Every problem is a config error at `…::<index>::<key>`.
 *
 * @module
 */

import { type ConfigReader, suggest } from "../../core/config/reader.ts";
import type { AnyValue } from "../../core/pdata/logs.ts";
import { compileGoRegex } from "../../core/regex/go_regex.ts";
import { configValue } from "../../core/pdata/config_value.ts";

/** The actions upstream knows. */
export const ACTIONS = [
  "insert",
  "update",
  "upsert",
  "delete",
  "hash",
  "extract",
  "convert",
] as const;

/** One of {@linkcode ACTIONS}. */
export type ActionName = typeof ACTIONS[number];

/** The targets of `convert`. */
export const CONVERTED_TYPES = ["int", "double", "string"] as const;

/** Where an insert/update/upsert takes its value from. */
export type ValueSource =
  | { readonly kind: "value"; readonly value: AnyValue }
  | { readonly kind: "from_attribute"; readonly key: string }
  | { readonly kind: "from_context"; readonly key: string };

/** One validated action. */
export type Action =
  | {
    readonly action: "insert" | "update" | "upsert";
    readonly key: string;
    readonly source: ValueSource;
  }
  | { readonly action: "delete" | "hash"; readonly key: string; readonly pattern?: RegExp }
  | {
    readonly action: "extract";
    readonly key: string;
    readonly pattern: RegExp;
    readonly names: string[];
  }
  | {
    readonly action: "convert";
    readonly key: string;
    readonly convertedType: typeof CONVERTED_TYPES[number];
  };

function compilePattern(r: ConfigReader, text: string): RegExp | undefined {
  try {
    return compileGoRegex(text);
  } catch (err) {
    r.error(
      "pattern",
      `Invalid pattern ${JSON.stringify(text)}: ${err instanceof Error ? err.message : err}`,
    );
    return undefined;
  }
}

/** Names of the capture groups of a (translated) pattern in order; `""` for an unnamed one. */
export function groupNames(source: string): string[] {
  const names: string[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
    } else if (c === "(") {
      if (source[i + 1] !== "?") names.push("");
      else {
        const named = /^\(\?<([A-Za-z_$][\w$]*)>/.exec(source.slice(i));
        if (named !== null) names.push(named[1]!);
      }
    }
  }
  return names;
}

function didYouMean(action: string): string {
  const hint = suggest(action, ACTIONS);
  return hint === undefined ? "" : ` (did you mean "${hint}"?)`;
}

function readOne(r: ConfigReader, index: number, what: string): Action | undefined {
  const actionText = r.optionalString("action");
  const key = r.string("key", "");
  const rawValue = r.raw("value");
  const fromAttribute = r.string("from_attribute", "");
  const fromContext = r.string("from_context", "");
  const patternText = r.string("pattern", "");
  const convertedType = r.string("converted_type", "");
  const where = `the ${what} #${index}`;
  if (actionText === undefined || actionText === "") {
    r.error(undefined, `Missing "action" in ${where}: one of ${ACTIONS.join(", ")}`);
    return undefined;
  }
  const action = actionText.toLowerCase() as ActionName;
  if (!(ACTIONS as readonly string[]).includes(action)) {
    r.error(
      "action",
      `Unsupported action ${JSON.stringify(actionText)} in ${where}${
        didYouMean(action)
      }: use one of ${ACTIONS.join(", ")}`,
    );
    return undefined;
  }
  const sources = [
    rawValue !== undefined ? "value" : "",
    fromAttribute !== "" ? "from_attribute" : "",
    fromContext !== "" ? "from_context" : "",
  ].filter((s) => s !== "");
  const unused = (field: string, set: boolean): boolean => {
    if (set) r.error(field, `Action "${action}" does not use "${field}": remove it from ${where}`);
    return set;
  };
  switch (action) {
    case "insert":
    case "update":
    case "upsert": {
      if (key === "") r.error(undefined, `Missing required field "key" in ${where}`);
      if (sources.length === 0) {
        r.error(
          undefined,
          `Either "value", "from_attribute" or "from_context" must be set in ${where}`,
        );
      } else if (sources.length > 1) {
        r.error(
          undefined,
          `Only one of ${sources.map((s) => `"${s}"`).join(", ")} may be set in ${where}`,
        );
      }
      if (unused("pattern", patternText !== "") || unused("converted_type", convertedType !== "")) {
        return undefined;
      }
      if (key === "" || sources.length !== 1) return undefined;
      const source: ValueSource = rawValue !== undefined
        ? { kind: "value", value: configValue(rawValue) }
        : fromAttribute !== ""
        ? { kind: "from_attribute", key: fromAttribute }
        : { kind: "from_context", key: fromContext };
      return { action, key, source };
    }
    case "delete":
    case "hash": {
      if (key === "" && patternText === "") {
        r.error(undefined, `At least one of "key" and "pattern" must be set in ${where}`);
        return undefined;
      }
      if (
        unused("value", rawValue !== undefined) || unused("from_attribute", fromAttribute !== "") ||
        unused("converted_type", convertedType !== "")
      ) return undefined;
      const pattern = patternText === "" ? undefined : compilePattern(r, patternText);
      if (patternText !== "" && pattern === undefined) return undefined;
      return { action, key, pattern };
    }
    case "extract": {
      if (key === "") r.error(undefined, `Missing required field "key" in ${where}`);
      if (sources.length > 0) {
        r.error(
          sources[0],
          `Action "extract" does not use a value source: remove "${sources[0]}" from ${where}`,
        );
      }
      if (patternText === "") {
        r.error(undefined, `Missing required field "pattern" for action "extract" in ${where}`);
      }
      if (unused("converted_type", convertedType !== "")) return undefined;
      if (key === "" || patternText === "" || sources.length > 0) return undefined;
      const pattern = compilePattern(r, patternText);
      if (pattern === undefined) return undefined;
      const names = groupNames(pattern.source);
      if (names.length === 0) {
        r.error("pattern", `The pattern contains no named groups (?P<name>…) in ${where}`);
        return undefined;
      }
      if (names.includes("")) {
        r.error(
          "pattern",
          `The pattern contains an unnamed group: name every group (?P<name>…) in ${where}`,
        );
        return undefined;
      }
      return { action, key, pattern, names };
    }
    case "convert": {
      if (key === "") r.error(undefined, `Missing required field "key" in ${where}`);
      if (sources.length > 0 || patternText !== "") {
        r.error(undefined, `Action "convert" does not use value sources or "pattern" in ${where}`);
        return undefined;
      }
      if (convertedType === "") {
        r.error(
          undefined,
          `Missing required field "converted_type" for action "convert" in ${where}`,
        );
        return undefined;
      }
      if (!(CONVERTED_TYPES as readonly string[]).includes(convertedType)) {
        r.error(
          "converted_type",
          `Invalid value ${JSON.stringify(convertedType)} in ${where}: use one of ${
            CONVERTED_TYPES.join(", ")
          }`,
        );
        return undefined;
      }
      if (key === "") return undefined;
      return { action, key, convertedType: convertedType as typeof CONVERTED_TYPES[number] };
    }
  }
}

/**
 * Reads the action list under `key` (`actions` or `attributes`); an absent or empty list is
 * an error, as upstream.
 */
export function readActions(r: ConfigReader, key: string, what = "action"): Action[] {
  const items = r.list(key);
  if (items.length === 0) {
    r.error(key, `Missing required field "${key}": list at least one action`);
    return [];
  }
  const out: Action[] = [];
  items.forEach((item, i) => {
    const a = readOne(item, i, what);
    if (a !== undefined) out.push(a);
  });
  return out;
}
