/**
 * `ConfigReader` decodes one component's section onto its defaults. Every accessor records
 * the key as known; problems are collected (never thrown) with the `a::b::c` path and the
 * `file:line:col` they were written at, so `validate` can report all of them at once.
 *
 * @module
 */

import { type ConfigNode, formatPosition, type MapNode, type Position } from "./node.ts";
import { parseByteSize, parseDuration } from "./units.ts";

/** One problem found in a config. */
export interface ConfigIssue {
  readonly severity: "error" | "warning";
  /** Collector path such as `receivers::filelog/pods::start_at`. */
  readonly path: string;
  readonly message: string;
  readonly pos?: Position;
}

/** Formats an issue as `file:line:col: path: message`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = formatPosition(issue.pos);
  const prefix = issue.severity === "warning" ? "warning: " : "";
  return `${where ? where + ": " : ""}${prefix}${
    issue.path ? issue.path + ": " : ""
  }${issue.message}`;
}

/** Collects the issues of one config load. */
export class ConfigIssues {
  readonly list: ConfigIssue[] = [];

  /** Records an error. */
  error(path: string, message: string, pos?: Position): void {
    this.list.push({ severity: "error", path, message, pos });
  }

  /** Records a warning (reported, but the config is still valid). */
  warn(path: string, message: string, pos?: Position): void {
    this.list.push({ severity: "warning", path, message, pos });
  }

  /** Every issue, ordered by where it was written (file, line, column). */
  get sorted(): ConfigIssue[] {
    return sortIssues(this.list);
  }

  /** The errors only. */
  get errors(): ConfigIssue[] {
    return this.list.filter((i) => i.severity === "error");
  }

  /** The warnings only. */
  get warnings(): ConfigIssue[] {
    return this.list.filter((i) => i.severity === "warning");
  }
}

/** Orders issues by file, line and column; issues without a position come first. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) =>
    (a.pos?.file ?? "").localeCompare(b.pos?.file ?? "") ||
    (a.pos?.line ?? 0) - (b.pos?.line ?? 0) ||
    (a.pos?.col ?? 0) - (b.pos?.col ?? 0)
  );
}

/** Thrown by the loader when a config has errors; carries every issue. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  /** Builds the error from the issues found. */
  constructor(issues: readonly ConfigIssue[]) {
    const errors = issues.filter((i) => i.severity === "error");
    super(
      `Invalid configuration: ${errors.length} error${errors.length === 1 ? "" : "s"}\n` +
        sortIssues(errors).map((i) => "  " + formatIssue(i)).join("\n"),
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** Edit distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Returns the closest candidate to `word`, if one is close enough to be a likely typo. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function describe(node: ConfigNode): string {
  if (node.type === "map") return "a map";
  if (node.type === "seq") return "a list";
  if (node.value === null) return "null";
  return `${typeof node.value} ${JSON.stringify(node.raw)}`;
}

/** Options for numeric accessors. */
export interface RangeOptions {
  min?: number;
  max?: number;
}

/**
 * Reads one map of the config. Create the top one with {@linkcode ConfigReader.root} or
 * {@linkcode ConfigReader.forNode}; nested ones with `section` and `list`.
 */
export class ConfigReader {
  readonly path: string;
  readonly issues: ConfigIssues;
  readonly node: MapNode | undefined;
  #known = new Set<string>();
  #children: ConfigReader[] = [];
  #checked = false;

  /** Reads `node` (a map, or undefined for "not written") at `path`. */
  constructor(node: ConfigNode | undefined, path: string, issues: ConfigIssues) {
    this.path = path;
    this.issues = issues;
    if (node !== undefined && node.type === "map") {
      this.node = node;
    } else {
      this.node = undefined;
      if (node !== undefined && !(node.type === "scalar" && node.value === null)) {
        issues.error(path, `Expected a map: current value is ${describe(node)}`, node.pos);
      }
    }
  }

  /** A reader for an unwritten section: every accessor returns its default. */
  static empty(path = ""): ConfigReader {
    return new ConfigReader(undefined, path, new ConfigIssues());
  }

  /** The position of this map (or of its parent key when the map is empty). */
  get pos(): Position | undefined {
    return this.node?.pos;
  }

  /** Joins this reader's path with `key`. */
  childPath(key: string): string {
    return this.path === "" ? key : `${this.path}::${key}`;
  }

  /** Marks `key` as understood without reading it (e.g. read by hand through `raw`). */
  known(...keys: string[]): void {
    for (const k of keys) this.#known.add(k);
  }

  /** True when `key` is written (even as null). */
  has(key: string): boolean {
    this.#known.add(key);
    return this.node?.entries.has(key) ?? false;
  }

  /** The keys written in this map, in order. */
  keys(): string[] {
    return this.node ? [...this.node.entries.keys()] : [];
  }

  /** The raw node under `key`, marking it known. Null scalars count as absent. */
  raw(key: string): ConfigNode | undefined {
    this.#known.add(key);
    const node = this.node?.entries.get(key)?.node;
    if (node?.type === "scalar" && node.value === null) return undefined;
    return node;
  }

  /** The position of `key` (its value, or the key when the value is empty). */
  posOf(key: string): Position | undefined {
    const e = this.node?.entries.get(key);
    return e?.node.pos ?? e?.keyPos ?? this.pos;
  }

  /** The position of the key itself (where "unknown key" style errors point). */
  keyPosOf(key: string): Position | undefined {
    const e = this.node?.entries.get(key);
    return e?.keyPos ?? e?.node.pos ?? this.pos;
  }

  /** Records an error at `key` (or at this map when `key` is undefined). */
  error(key: string | undefined, message: string): void {
    const path = key === undefined ? this.path : this.childPath(key);
    this.issues.error(path, message, key === undefined ? this.pos : this.posOf(key));
  }

  /** Records a warning at `key`. */
  warn(key: string | undefined, message: string): void {
    const path = key === undefined ? this.path : this.childPath(key);
    this.issues.warn(path, message, key === undefined ? this.pos : this.posOf(key));
  }

  #scalar(key: string, what: string): ConfigNode & { type: "scalar" } | undefined {
    const node = this.raw(key);
    if (node === undefined) return undefined;
    if (node.type !== "scalar") {
      this.error(key, `Expected ${what}: current value is ${describe(node)}`);
      return undefined;
    }
    return node;
  }

  /** A string; numbers and booleans are taken as the text written. */
  string(key: string, def: string): string {
    return this.optionalString(key) ?? def;
  }

  /** A string, or `undefined` when not written. */
  optionalString(key: string): string | undefined {
    const node = this.#scalar(key, "a string");
    if (node === undefined) return undefined;
    return typeof node.value === "string" ? node.value : node.raw;
  }

  /** A boolean (`true`/`false`). */
  bool(key: string, def: boolean): boolean {
    const node = this.#scalar(key, "a boolean");
    if (node === undefined) return def;
    if (typeof node.value === "boolean") return node.value;
    if (node.value === "true" || node.value === "false") return node.value === "true";
    this.error(key, `Expected a boolean (true or false): current value is ${describe(node)}`);
    return def;
  }

  /** A number within the given range. */
  number(key: string, def: number, range: RangeOptions = {}): number {
    const node = this.#scalar(key, "a number");
    if (node === undefined) return def;
    const n = typeof node.value === "number"
      ? node.value
      : typeof node.value === "string" && node.value.trim() !== ""
      ? Number(node.value)
      : NaN;
    if (!Number.isFinite(n)) {
      this.error(key, `Expected a number: current value is ${describe(node)}`);
      return def;
    }
    return this.#checkRange(key, n, range) ? n : def;
  }

  /** A whole number within the given range. */
  int(key: string, def: number, range: RangeOptions = {}): number {
    const n = this.number(key, def, range);
    if (!Number.isInteger(n)) {
      this.error(key, `Expected a whole number: current value is ${n}`);
      return def;
    }
    return n;
  }

  #checkRange(key: string, n: number, range: RangeOptions): boolean {
    if (range.min !== undefined && n < range.min) {
      this.error(key, `Must be at least ${range.min}: current value is ${n}`);
      return false;
    }
    if (range.max !== undefined && n > range.max) {
      this.error(key, `Must be at most ${range.max}: current value is ${n}`);
      return false;
    }
    return true;
  }

  /** A Go-style duration (`200ms`, `1m30s`) in milliseconds; a bare 0 is accepted. */
  duration(key: string, defMs: number, range: RangeOptions = { min: 0 }): number {
    const node = this.#scalar(key, "a duration");
    if (node === undefined) return defMs;
    const ms = node.value === 0 ? 0 : parseDuration(String(node.value));
    if (ms === undefined) {
      this.error(
        key,
        `Invalid duration ${
          JSON.stringify(node.raw)
        }: use a number with a unit, e.g. "200ms", "1m30s", "5s"`,
      );
      return defMs;
    }
    return this.#checkRange(key, ms, range) ? ms : defMs;
  }

  /** A byte size (`1MiB`, `10kb`, `4096`) in bytes. */
  byteSize(key: string, def: number, range: RangeOptions = { min: 0 }): number {
    const node = this.#scalar(key, "a size");
    if (node === undefined) return def;
    const n = typeof node.value === "number" ? node.value : parseByteSize(String(node.value));
    if (n === undefined || !Number.isInteger(n)) {
      this.error(
        key,
        `Invalid size ${
          JSON.stringify(node.raw)
        }: use bytes or a number with a unit, e.g. "1MiB", "10kb", "16KiB"`,
      );
      return def;
    }
    return this.#checkRange(key, n, range) ? n : def;
  }

  /** One of `values` (compared exactly, as upstream does). */
  enum<T extends string>(key: string, values: readonly T[], def: T): T {
    const node = this.#scalar(key, "a string");
    if (node === undefined) return def;
    const text = typeof node.value === "string" ? node.value : node.raw;
    if ((values as readonly string[]).includes(text)) return text as T;
    const hint = suggest(text, values);
    this.error(
      key,
      `Invalid value ${JSON.stringify(text)}: must be one of ${
        values.map((v) => JSON.stringify(v)).join(", ")
      }${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""}`,
    );
    return def;
  }

  /** A list of strings; a single string is accepted as a one-element list. */
  stringList(key: string, def: readonly string[] = []): string[] {
    const node = this.raw(key);
    if (node === undefined) return [...def];
    if (node.type === "scalar") return [typeof node.value === "string" ? node.value : node.raw];
    if (node.type !== "seq") {
      this.error(key, `Expected a list of strings: current value is ${describe(node)}`);
      return [...def];
    }
    const out: string[] = [];
    node.items.forEach((item, i) => {
      if (item.type !== "scalar" || item.value === null) {
        this.issues.error(
          `${this.childPath(key)}::${i}`,
          `Expected a string: current value is ${describe(item)}`,
          item.pos,
        );
      } else out.push(typeof item.value === "string" ? item.value : item.raw);
    });
    return out;
  }

  /** A map of string to string (e.g. `headers`). */
  stringMap(key: string): Record<string, string> {
    const r = this.section(key);
    const out: Record<string, string> = {};
    for (const k of r.keys()) out[k] = r.string(k, "");
    return out;
  }

  /** The nested map under `key`; an unwritten key gives an empty reader (all defaults). */
  section(key: string): ConfigReader {
    return this.#child(new ConfigReader(this.raw(key), this.childPath(key), this.issues));
  }

  #child(r: ConfigReader): ConfigReader {
    this.#children.push(r);
    return r;
  }

  /** A list of maps (e.g. `operators`), one reader each. */
  list(key: string): ConfigReader[] {
    const node = this.raw(key);
    if (node === undefined) return [];
    if (node.type !== "seq") {
      this.error(key, `Expected a list: current value is ${describe(node)}`);
      return [];
    }
    return node.items.map((item, i) =>
      this.#child(new ConfigReader(item, `${this.childPath(key)}::${i}`, this.issues))
    );
  }

  /**
   * Reports every key written here, or in a `section`/`list` read from here, that no
   * accessor asked for, with a suggestion. The collector calls it after `parseConfig`.
   */
  done(): void {
    if (this.#checked) return;
    this.#checked = true;
    for (const child of this.#children) child.done();
    if (this.node === undefined) return;
    for (const [key, entry] of this.node.entries) {
      if (this.#known.has(key)) continue;
      const hint = suggest(key, this.#known);
      this.issues.error(
        this.childPath(key),
        `Unknown key ${JSON.stringify(key)}${
          hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""
        }${this.#known.size > 0 ? `; valid keys: ${[...this.#known].sort().join(", ")}` : ""}`,
        entry.keyPos ?? entry.node.pos,
      );
    }
  }
}
