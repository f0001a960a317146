/**
 * `ordering_criteria`: keep only the top N matched files per group after sorting them by
 * values captured from their paths (numeric, alphabetical, timestamp) or by mtime, as
 * upstream's matcher does. Files the regex does not match, or whose captured value does
 * not parse, are left out.
 *
 * Several `sort_by` rules are applied in order, each a stable sort, so the last rule is the
 * primary key and earlier ones break its ties (upstream applies them in the same order with
 * an unstable sort, which leaves ties in no particular order).
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import { compileGoRegex } from "../../core/regex/go_regex.ts";
import { compileLayout, type TimeLayout } from "../../pkg/stanza/parse/timeparse.ts";

/** How one `sort_by` rule orders files. */
export type SortType = "numeric" | "alphabetical" | "timestamp" | "mtime";

/** One `sort_by` rule. */
export interface SortRule {
  readonly sortType: SortType;
  /** Named group of `regex` whose capture is the sort key (not for mtime). */
  readonly regexKey: string;
  readonly ascending: boolean;
  /** For timestamp: the strptime layout with its location. */
  readonly layout: TimeLayout | undefined;
}

/** The parsed `ordering_criteria` section. */
export interface OrderingConfig {
  readonly regex: RegExp | undefined;
  /** The first capture group of a match names the file's group. */
  readonly groupBy: RegExp | undefined;
  /** Files kept per group; 0 = all. */
  readonly topN: number;
  readonly sortBy: readonly SortRule[];
  /** True when ordering needs each file's mtime (an mtime rule, or exclude_older_than). */
  readonly usesMtime: boolean;
  /** exclude_older_than, applied before sorting as upstream's matcher does (0 = off). */
  readonly excludeOlderThanMs: number;
}

const SORT_TYPES = ["numeric", "alphabetical", "timestamp", "mtime"] as const;

function compileRegex(r: ConfigReader, key: string): RegExp | undefined {
  const text = r.optionalString(key);
  if (text === undefined || text === "") return undefined;
  try {
    return compileGoRegex(text);
  } catch (err) {
    r.error(key, (err as Error).message);
    return undefined;
  }
}

/**
 * Reads `ordering_criteria`; undefined when absent or without `sort_by` (upstream then
 * matches every file). `excludeOlderThanMs` is the receiver's exclude_older_than.
 */
export function parseOrdering(
  r: ConfigReader,
  excludeOlderThanMs: number,
): OrderingConfig | undefined {
  if (!r.has("ordering_criteria") || r.raw("ordering_criteria") === undefined) return undefined;
  const o = r.section("ordering_criteria");
  const regexText = o.optionalString("regex");
  const regex = compileRegex(o, "regex");
  const groupBy = compileRegex(o, "group_by");
  const topN = o.has("top_n") ? o.int("top_n", 1) : 1;
  const rules: SortRule[] = [];
  const list = o.list("sort_by");
  list.forEach((s) => {
    const sortType = s.enum("sort_type", SORT_TYPES, "mtime");
    if (!s.has("sort_type")) {
      s.error("sort_type", `sort_type is required: one of ${SORT_TYPES.join(", ")}`);
    }
    const regexKey = s.string("regex_key", "");
    const ascending = s.bool("ascending", false);
    let layout: TimeLayout | undefined;
    if (sortType !== "mtime") {
      if (regexKey === "") s.error("regex_key", `regex_key is required for sort_type ${sortType}`);
      else if (regex !== undefined && !regex.source.includes(`(?<${regexKey}>`)) {
        s.error(
          "regex_key",
          `regex_key ${JSON.stringify(regexKey)} is not a named group of ordering_criteria::regex`,
        );
      }
    }
    const layoutText = s.string("layout", "");
    const location = s.string("location", "UTC");
    if (sortType === "timestamp") {
      if (layoutText === "") s.error("layout", "layout is required for sort_type timestamp");
      else {
        try {
          layout = compileLayout({ layoutType: "strptime", layout: layoutText, location });
        } catch (err) {
          s.error("layout", `Invalid layout or location: ${(err as Error).message}`);
        }
      }
    }
    rules.push({ sortType, regexKey, ascending, layout });
  });
  if (rules.length === 0) return undefined;
  if (topN < 0) o.error("top_n", "top_n must not be negative (0 keeps every file)");
  if (rules.some((s) => s.sortType !== "mtime") && (regexText ?? "") === "") {
    o.error("regex", "regex is required when sort_by sorts by a captured value");
  }
  return {
    regex,
    groupBy,
    topN: Math.max(0, topN),
    sortBy: rules,
    usesMtime: excludeOlderThanMs > 0 || rules.some((s) => s.sortType === "mtime"),
    excludeOlderThanMs,
  };
}

interface Item {
  readonly path: string;
  readonly captures: Record<string, string>;
  mtime: number;
}

/**
 * Applies the ordering to matched paths; `mtimeOf` returns a file's mtime in ms (undefined
 * when it cannot be stat'ed: the file is left out).
 */
export function orderPaths(
  paths: readonly string[],
  cfg: OrderingConfig,
  now: number,
  mtimeOf: (path: string) => number | undefined,
): string[] {
  const groups = new Map<string, Item[]>();
  for (const path of paths) {
    let group = "";
    if (cfg.groupBy !== undefined) {
      const m = cfg.groupBy.exec(path);
      if (m === null || m.length < 2) continue;
      group = m[1] ?? "";
    }
    let captures: Record<string, string> = {};
    if (cfg.regex !== undefined) {
      const m = cfg.regex.exec(path);
      if (m === null) continue;
      captures = { ...m.groups };
    }
    const item: Item = { path, captures, mtime: 0 };
    if (cfg.usesMtime) {
      const mtime = mtimeOf(path);
      if (mtime === undefined) continue;
      if (cfg.excludeOlderThanMs > 0 && now - mtime > cfg.excludeOlderThanMs) continue;
      item.mtime = mtime;
    }
    let list = groups.get(group);
    if (list === undefined) groups.set(group, list = []);
    list.push(item);
  }
  const out: string[] = [];
  for (const key of [...groups.keys()].sort()) {
    let items = groups.get(key)!;
    for (const rule of cfg.sortBy) items = sortBy(items, rule);
    if (cfg.topN > 0) items = items.slice(0, cfg.topN);
    for (const it of items) out.push(it.path);
  }
  return out;
}

/** One rule: drops items whose key does not parse, then sorts the rest stably. */
function sortBy(items: Item[], rule: SortRule): Item[] {
  const keyed: Array<{ item: Item; key: bigint | string | number }> = [];
  for (const item of items) {
    const key = keyOf(item, rule);
    if (key !== undefined) keyed.push({ item, key });
  }
  const dir = rule.ascending ? 1 : -1;
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) * dir);
  return keyed.map((k) => k.item);
}

function keyOf(item: Item, rule: SortRule): bigint | string | number | undefined {
  if (rule.sortType === "mtime") return item.mtime;
  const text = item.captures[rule.regexKey] ?? "";
  switch (rule.sortType) {
    case "numeric":
      // Go's strconv.Atoi: optional sign, decimal digits, nothing else.
      return /^[+-]?\d+$/.test(text) ? BigInt(text) : undefined;
    case "alphabetical":
      return text;
    case "timestamp": {
      const t = rule.layout!.parse(text);
      return t instanceof Error ? undefined : t;
    }
  }
}
