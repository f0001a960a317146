/**
 * Loads collector config from the sources upstream's `--config` accepts (a path, `file:PATH`,
 * `env:VAR`, `yaml:<inline yaml>`), expands `${env:…}` references, deep-merges the sources
 * in order (maps merge, lists are replaced, later wins) and applies `--set` overrides.
 *
 * @module
 */

import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { type EnvLookup, expandEnv } from "./expand.ts";
import type { ConfigNode, MapEntry, MapNode, Position } from "./node.ts";
import { ConfigIssues } from "./reader.ts";

/** Options for {@linkcode loadConfig}. */
export interface LoadOptions {
  /** Environment lookup for `${env:…}` and `env:VAR` sources. */
  env: EnvLookup;
  /** Reads a file; defaults to `Deno.readTextFile`. */
  readFile?: (path: string) => Promise<string>;
}

const KEY_DELIMITER = "::";
/** Bounds alias expansion, so a "billion laughs" document cannot exhaust memory. */
const MAX_NODES = 200_000;
const MAX_DEPTH = 200;

/**
 * Parses YAML text into a config tree; syntax errors go to `issues` with their position.
 * `env` expands `${env:…}` in string values; `undefined` leaves strings as written.
 */
export function parseYaml(
  text: string,
  file: string,
  env: EnvLookup | undefined,
  issues: ConfigIssues,
): ConfigNode | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const posAt = (offset: number | undefined): Position | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  for (const err of doc.errors) {
    issues.error("", `Invalid YAML: ${err.message.split("\n")[0]}`, posAt(err.pos[0]));
  }
  if (doc.errors.length > 0) return undefined;

  let budget = MAX_NODES;
  const tooBig: ConfigNode = { type: "scalar", value: null, raw: "" };
  const convert = (node: unknown, path: string, depth = 0): ConfigNode => {
    const pos = posAt((node as Node | null)?.range?.[0]);
    if (--budget < 0 || depth > MAX_DEPTH) {
      if (budget === -1 || depth === MAX_DEPTH + 1) {
        issues.error(
          path,
          "The document is too large or too deeply nested once aliases are expanded",
          pos,
        );
      }
      return tooBig;
    }
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target === undefined) {
        issues.error(path, `Unknown YAML alias "*${node.source}"`, pos);
        return tooBig;
      }
      return convert(target, path, depth + 1);
    }
    if (isMap(node)) {
      const entries = new Map<string, MapEntry>();
      for (const pair of node.items) {
        const keyNode = pair.key;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const keyPos = posAt((keyNode as Node | null)?.range?.[0]);
        if (key === "<<" && pair.value) {
          // YAML merge key (`<<: *defaults`): keys written in this map win over merged ones.
          const merged = convert(pair.value, path, depth + 1);
          for (const source of merged.type === "seq" ? merged.items : [merged]) {
            if (source.type !== "map") continue;
            for (const [k, e] of source.entries) if (!entries.has(k)) entries.set(k, e);
          }
          continue;
        }
        const childPath = path === "" ? key : `${path}::${key}`;
        const value = pair.value === null || pair.value === undefined
          ? { type: "scalar" as const, value: null, raw: "", pos: keyPos }
          : convert(pair.value, childPath, depth + 1);
        // A key written after a merge replaces the merged one rather than merging into it.
        if (entries.has(key) && !key.includes(KEY_DELIMITER)) entries.delete(key);
        setPath(entries, key.split(KEY_DELIMITER), { keyPos, node: value });
      }
      return { type: "map", entries, pos };
    }
    if (isSeq(node)) {
      const items = node.items.map((n, i) => convert(n, `${path}::${i}`, depth + 1));
      return { type: "seq", items, pos };
    }
    if (isScalar(node)) {
      const source = (node as { source?: string }).source;
      const raw = typeof source === "string" ? source : String(node.value ?? "");
      const value = node.value;
      if (typeof value === "string") {
        if (env !== undefined) return expandScalar(value, pos, path, env, issues);
        return { type: "scalar", value, raw, pos };
      }
      if (value === null || typeof value === "number" || typeof value === "boolean") {
        return { type: "scalar", value, raw, pos };
      }
      return { type: "scalar", value: String(value), raw, pos };
    }
    issues.error(path, "Unsupported YAML node", pos);
    return { type: "scalar", value: null, raw: "", pos };
  };
  return convert(doc.contents, "");
}

/**
 * Expands env references in one string scalar. A value that is exactly one reference is
 * read as YAML, as upstream does: `${env:PORT}` can be a number, `${env:PATHS}` a list.
 */
function expandScalar(
  value: string,
  pos: Position | undefined,
  path: string,
  env: EnvLookup,
  issues: ConfigIssues,
): ConfigNode {
  const exp = expandEnv(value, env);
  for (const e of exp.errors) issues.error(path, e, pos);
  for (const name of exp.unset) {
    issues.warn(
      path,
      `Environment variable ${name} is not set: it expands to an empty string`,
      pos,
    );
  }
  if (exp.whole && exp.text.trim() !== "") {
    const valueIssues = new ConfigIssues();
    const parsed = parseYaml(exp.text, pos?.file ?? "env", undefined, valueIssues);
    if (parsed !== undefined && valueIssues.errors.length === 0) {
      if (parsed.type !== "scalar") return relocate(parsed, pos);
      if (typeof parsed.value === "number" || typeof parsed.value === "boolean") {
        return { type: "scalar", value: parsed.value, raw: exp.text, pos };
      }
    }
  }
  return { type: "scalar", value: exp.text, raw: exp.text, pos };
}

/** Gives every node of a tree parsed from an env value the position of the reference. */
function relocate(node: ConfigNode, pos: Position | undefined): ConfigNode {
  switch (node.type) {
    case "scalar":
      return { ...node, pos };
    case "seq":
      return { type: "seq", items: node.items.map((n) => relocate(n, pos)), pos };
    case "map": {
      const entries = new Map<string, MapEntry>();
      for (const [k, e] of node.entries) {
        entries.set(k, { keyPos: pos, node: relocate(e.node, pos) });
      }
      return { type: "map", entries, pos };
    }
  }
}

/** Sets a (possibly `::`-nested) key in a map, merging into existing nested maps. */
function setPath(entries: Map<string, MapEntry>, parts: string[], entry: MapEntry): void {
  const [head, ...rest] = parts;
  if (head === undefined) return;
  if (rest.length === 0) {
    const existing = entries.get(head);
    entries.set(
      head,
      existing ? { keyPos: entry.keyPos, node: merge(existing.node, entry.node) } : entry,
    );
    return;
  }
  const existing = entries.get(head)?.node;
  const child: MapNode = existing?.type === "map"
    ? existing
    : { type: "map", entries: new Map(), pos: entry.keyPos };
  setPath(child.entries, rest, entry);
  entries.set(head, { keyPos: entry.keyPos, node: child });
}

/** Deep-merges `over` onto `base`: maps merge key by key, anything else is replaced. */
export function merge(base: ConfigNode | undefined, over: ConfigNode): ConfigNode {
  if (base?.type !== "map" || over.type !== "map") return over;
  const entries = new Map(base.entries);
  for (const [k, e] of over.entries) {
    const prev = entries.get(k);
    entries.set(k, prev ? { keyPos: e.keyPos, node: merge(prev.node, e.node) } : e);
  }
  return { type: "map", entries, pos: base.pos ?? over.pos };
}

/** Reads one `--config` source into a tree; problems go to `issues`. */
export async function loadSource(
  uri: string,
  options: LoadOptions,
  issues: ConfigIssues,
): Promise<ConfigNode | undefined> {
  const readFile = options.readFile ?? ((p: string) => Deno.readTextFile(p));
  if (uri.startsWith("yaml:")) {
    return parseYaml(uri.slice(5), "--config yaml:", options.env, issues);
  }
  if (uri.startsWith("env:")) {
    const name = uri.slice(4);
    const text = options.env(name);
    if (text === undefined) {
      issues.error("", `Config source "${uri}": environment variable ${name} is not set`);
      return undefined;
    }
    return parseYaml(text, uri, options.env, issues);
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri)?.[1];
  if (scheme !== undefined && scheme !== "file" && scheme.length > 1) {
    issues.error(
      "",
      `Config source "${uri}": unsupported scheme "${scheme}"; use a path, file:PATH, env:VAR or yaml:TEXT`,
    );
    return undefined;
  }
  const path = uri.startsWith("file:") ? uri.slice(5) : uri;
  let text: string;
  try {
    text = await readFile(path);
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable
      ? "permission denied"
      : err instanceof Error
      ? err.message
      : String(err);
    issues.error("", `Cannot read config file "${path}": ${reason}`);
    return undefined;
  }
  return parseYaml(text, path, options.env, issues);
}

/**
 * Parses one `--set path::to::key=value` override into a tree rooted at the top of the
 * config. The value is read as YAML, so `--set a::b=5` gives a number.
 */
export function parseSet(
  arg: string,
  env: EnvLookup,
  issues: ConfigIssues,
): ConfigNode | undefined {
  const eq = arg.indexOf("=");
  if (eq <= 0) {
    issues.error("", `Invalid --set "${arg}": expected path::to::key=value`);
    return undefined;
  }
  const key = arg.slice(0, eq);
  if (key.split(KEY_DELIMITER).some((p) => p === "")) {
    issues.error("", `Invalid --set "${arg}": the key path has an empty part`);
    return undefined;
  }
  const pos: Position = { file: "--set", line: 1, col: 1 };
  const value = parseYaml(arg.slice(eq + 1), "--set", env, issues) ??
    { type: "scalar", value: null, raw: "", pos };
  const entries = new Map<string, MapEntry>();
  setPath(entries, key.split(KEY_DELIMITER), { keyPos: pos, node: value });
  return { type: "map", entries, pos };
}

/** Loads and merges every source, then applies every `--set`, in order. */
export async function loadConfig(
  uris: readonly string[],
  sets: readonly string[],
  options: LoadOptions,
  issues: ConfigIssues,
): Promise<ConfigNode | undefined> {
  let root: ConfigNode | undefined;
  for (const uri of uris) {
    const node = await loadSource(uri, options, issues);
    if (node !== undefined && !(node.type === "scalar" && node.value === null)) {
      root = root === undefined ? node : merge(root, node);
    }
  }
  for (const s of sets) {
    const node = parseSet(s, options.env, issues);
    if (node !== undefined) root = root === undefined ? node : merge(root, node);
  }
  return root;
}
