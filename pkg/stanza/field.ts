/**
 * Stanza field syntax: `body`, `body.a.b`, `attributes.x`, `attributes["k8s.pod.name"]`,
 * `resource["..."]`; a bare name means `body.name`. Parsed once at config time.
 *
 * @module
 */

import { cloneValue, type Entry, isMap, type Value, type ValueMap } from "./entry.ts";

/** A parsed field reference. */
export interface Field {
  readonly root: "body" | "attributes" | "resource";
  readonly path: readonly string[];
  /** The text as written, for messages. */
  readonly text: string;
}

const ROOTS = new Set(["body", "attributes", "resource"]);

/** Parses a field; returns an Error describing the problem for config messages. */
export function parseField(text: string): Field | Error {
  let s = text.trim();
  if (s.startsWith("$")) s = s.slice(1); // legacy `$body`, `$attributes`, `$` = body
  if (s === "") return { root: "body", path: [], text };
  const parts: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === "[") {
      const quote = s[i + 1];
      if (quote !== '"' && quote !== "'") return badField(text, "expected a quoted key after [");
      const close = s.indexOf(quote + "]", i + 2);
      if (close < 0) return badField(text, `missing ${quote}]`);
      parts.push(s.slice(i + 2, close));
      i = close + 2;
      if (s[i] === ".") i++;
    } else {
      let j = i;
      while (j < s.length && s[j] !== "." && s[j] !== "[") j++;
      const name = s.slice(i, j);
      if (name === "") return badField(text, "empty name");
      parts.push(name);
      i = s[j] === "." ? j + 1 : j;
      if (s[j] === "." && i >= s.length) return badField(text, "ends with '.'");
    }
  }
  const first = parts[0]!;
  if (ROOTS.has(first)) {
    return { root: first as Field["root"], path: parts.slice(1), text };
  }
  return { root: "body", path: parts, text };
}

function badField(text: string, why: string): Error {
  return new Error(
    `Invalid field ${
      JSON.stringify(text)
    }: ${why}; write body.x, attributes.x, attributes["a.b"] or resource["a.b"]`,
  );
}

/** Formats a field in canonical syntax. */
export function fieldText(f: Field): string {
  return f.root + f.path.map((p) => /^[A-Za-z0-9_]+$/.test(p) ? `.${p}` : `["${p}"]`).join("");
}

function rootValue(e: Entry, root: Field["root"]): Value | undefined {
  return root === "body" ? e.body : root === "attributes" ? e.attributes : e.resource;
}

/** Reads a field; `undefined` when it does not exist. */
export function getField(e: Entry, f: Field): Value | undefined {
  let v: Value | undefined = rootValue(e, f.root);
  for (const p of f.path) {
    if (!isMap(v)) return undefined;
    v = v[p];
  }
  return v;
}

function ownResource(e: Entry): void {
  if (e.resourceShared) {
    e.resource = cloneValue(e.resource) as ValueMap;
    e.resourceShared = false;
  }
}

/** Writes a field, creating intermediate maps (and replacing non-map values on the way). */
export function setField(e: Entry, f: Field, value: Value): void {
  if (f.root === "resource") ownResource(e);
  if (f.path.length === 0) {
    if (f.root === "body") e.body = value;
    else if (isMap(value)) {
      // Writing a map to the attributes or resource root merges it in, as stanza does.
      Object.assign(f.root === "attributes" ? e.attributes : e.resource, value);
    } else {
      // A scalar cannot replace the attribute map: store it under the root name, as stanza.
      (f.root === "attributes" ? e.attributes : e.resource)[f.root] = value;
    }
    return;
  }
  let container: ValueMap;
  if (f.root === "body") {
    if (!isMap(e.body)) e.body = {};
    container = e.body as ValueMap;
  } else container = f.root === "attributes" ? e.attributes : e.resource;
  for (let i = 0; i < f.path.length - 1; i++) {
    const k = f.path[i]!;
    let next = container[k];
    if (!isMap(next)) {
      next = {};
      container[k] = next;
    }
    container = next;
  }
  container[f.path[f.path.length - 1]!] = value;
}

/** Removes a field and returns what it held (`undefined` when absent). */
export function deleteField(e: Entry, f: Field): Value | undefined {
  if (f.root === "resource") ownResource(e);
  if (f.path.length === 0) {
    const old = rootValue(e, f.root);
    if (f.root === "body") e.body = undefined;
    else if (f.root === "attributes") e.attributes = {};
    else e.resource = {};
    return old;
  }
  let v: Value | undefined = rootValue(e, f.root);
  for (let i = 0; i < f.path.length - 1; i++) {
    if (!isMap(v)) return undefined;
    v = v[f.path[i]!];
  }
  if (!isMap(v)) return undefined;
  const k = f.path[f.path.length - 1]!;
  if (!(k in v)) return undefined;
  const old = v[k];
  delete v[k];
  return old;
}
