/**
 * Config of the `headers_setter` extension, as upstream's `headerssetterextension.Config`:
 * a list of `headers`, each a `key`, an `action` and one source (`value`, `from_context`
 * or `from_attribute`, the last two with an optional `default_value`).
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";

/** What to do with one header. */
export type HeaderAction = "insert" | "update" | "upsert" | "delete";

const ACTIONS: readonly HeaderAction[] = ["insert", "update", "upsert", "delete"];

/** Where a header's value comes from. */
export type HeaderSource =
  | { readonly kind: "value"; readonly value: string }
  /** A request metadata key (the receiver's `include_metadata`), compared lower-cased. */
  | { readonly kind: "from_context"; readonly key: string; readonly defaultValue: string }
  /** An attribute of the identity a server authenticator established. */
  | { readonly kind: "from_attribute"; readonly key: string; readonly defaultValue: string };

/** One configured header. */
export interface HeaderConfig {
  /** The header name as configured (sent lower-cased; HTTP names are case-insensitive). */
  readonly key: string;
  readonly action: HeaderAction;
  /** Absent only for `delete`. */
  readonly source: HeaderSource | undefined;
}

/** The extension's typed config. */
export interface HeadersSetterConfig {
  headers: HeaderConfig[];
}

/** Reads the extension's section and validates it as upstream does. */
export function parseHeadersSetterConfig(r: ConfigReader): HeadersSetterConfig {
  const items = r.list("headers");
  if (items.length === 0) {
    r.error("headers", "Missing headers configuration: list at least one header");
    return { headers: [] };
  }
  const headers: HeaderConfig[] = [];
  for (const h of items) {
    const key = h.string("key", "");
    if (!h.has("action")) {
      h.warn(undefined, 'No "action": using "upsert" (upstream will require it to be set)');
    }
    const action = h.enum("action", ACTIONS, "upsert");
    const value = h.optionalString("value");
    const fromContext = h.optionalString("from_context");
    const fromAttribute = h.optionalString("from_attribute");
    const defaultValue = h.optionalString("default_value");
    if (key === "") {
      h.error("key", 'Missing header name: set "key"');
      continue;
    }
    const set = [
      value !== undefined ? "value" : "",
      fromContext !== undefined ? "from_context" : "",
      fromAttribute !== undefined ? "from_attribute" : "",
    ].filter((s) => s !== "");
    if (action === "delete") {
      headers.push({ key, action, source: undefined });
      continue;
    }
    if (set.length === 0) {
      h.error(
        undefined,
        'Missing header source: set one of "value", "from_context", "from_attribute"',
      );
      continue;
    }
    if (set.length > 1) {
      h.error(
        undefined,
        `Conflicting header sources ${set.map((s) => `"${s}"`).join(", ")}: set only one`,
      );
      continue;
    }
    if (defaultValue !== undefined && value !== undefined) {
      h.error("default_value", 'Only used with "from_context" or "from_attribute": remove it');
    }
    const source: HeaderSource = value !== undefined
      ? { kind: "value", value }
      : fromContext !== undefined
      ? { kind: "from_context", key: fromContext, defaultValue: defaultValue ?? "" }
      : { kind: "from_attribute", key: fromAttribute!, defaultValue: defaultValue ?? "" };
    headers.push({ key, action, source });
  }
  return { headers };
}
