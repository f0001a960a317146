/**
 * The config tree after loading: YAML maps, lists and scalars, each remembering where it
 * was written so errors can point at `file:line:col`.
 *
 * @module
 */

/** Where a value was written. `file` is a path, `--set`, or `env:VAR`. */
export interface Position {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** A scalar value, with its YAML type resolved and its source text kept. */
export interface ScalarNode {
  readonly type: "scalar";
  readonly value: string | number | boolean | null;
  /**
   * The text as written, for fields that want a string whatever YAML made of it
   * (`directory_permissions: 0750` must stay "0750", not become 750).
   */
  readonly raw: string;
  readonly pos?: Position;
}

/** A YAML sequence. */
export interface SeqNode {
  readonly type: "seq";
  readonly items: ConfigNode[];
  readonly pos?: Position;
}

/** A YAML mapping; keys keep their insertion order. */
export interface MapNode {
  readonly type: "map";
  readonly entries: Map<string, MapEntry>;
  readonly pos?: Position;
}

/** One key of a mapping with the position of the key itself. */
export interface MapEntry {
  readonly keyPos?: Position;
  readonly node: ConfigNode;
}

/** Any node of the config tree. */
export type ConfigNode = ScalarNode | SeqNode | MapNode;

/** Formats a position as `file:line:col`. */
export function formatPosition(pos: Position | undefined): string {
  return pos === undefined ? "" : `${pos.file}:${pos.line}:${pos.col}`;
}

/** Builds a map node from plain entries (used by tests and by programmatic configs). */
export function mapNode(entries: Record<string, ConfigNode>, pos?: Position): MapNode {
  return {
    type: "map",
    entries: new Map(Object.entries(entries).map(([k, node]) => [k, { node, keyPos: pos }])),
    pos,
  };
}

/** Converts a plain JavaScript value (from JSON or code) into a config tree without positions. */
export function fromPlain(value: unknown, pos?: Position): ConfigNode {
  if (Array.isArray(value)) return { type: "seq", items: value.map((v) => fromPlain(v, pos)), pos };
  if (value !== null && typeof value === "object") {
    const entries = new Map<string, MapEntry>();
    for (const [k, v] of Object.entries(value)) {
      entries.set(k, { node: fromPlain(v, pos), keyPos: pos });
    }
    return { type: "map", entries, pos };
  }
  if (value === undefined || value === null) return { type: "scalar", value: null, raw: "", pos };
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return { type: "scalar", value, raw: String(value), pos };
  }
  return { type: "scalar", value: String(value), raw: String(value), pos };
}

/** Converts a config tree back into plain JavaScript values. */
export function toPlain(node: ConfigNode | undefined): unknown {
  if (node === undefined) return undefined;
  switch (node.type) {
    case "scalar":
      return node.value;
    case "seq":
      return node.items.map(toPlain);
    case "map":
      return Object.fromEntries([...node.entries].map(([k, e]) => [k, toPlain(e.node)]));
  }
}
