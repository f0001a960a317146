/**
 * The name of each client's database file: upstream's `<kind>_<type>_<name>[_<storageName>]`
 * with the same escaping, plus a `.sqlite` suffix so upstream's bbolt files in the same
 * directory are never opened as SQLite.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { ComponentId, Kind } from "../../core/component.ts";

/** Suffix of every database file this extension writes. */
export const FILE_SUFFIX = ".sqlite";

/** Longest file name (in bytes) common Linux filesystems accept. */
const MAX_NAME_BYTES = 255;

function isSafe(cp: number): boolean {
  return (cp >= 0x61 && cp <= 0x7a) || // a-z
    (cp >= 0x41 && cp <= 0x5a) || // A-Z
    (cp >= 0x30 && cp <= 0x39) || // 0-9
    cp === 0x2e || cp === 0x2d || cp === 0x5f; // . - _
}

/**
 * Escapes every character outside `[A-Za-z0-9._-]` (including `~` itself, so escaped and
 * plain names never collide) as `~` and its code point in at least four upper-case hex digits.
 */
export function sanitizeFileName(name: string): string {
  let out = "";
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    out += isSafe(cp) ? ch : `~${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return out;
}

/**
 * Upstream's base name for a client, without our suffix: `receiver_filelog_` for an unnamed
 * filelog receiver, `exporter_otlphttp__logs` for an unnamed exporter's "logs" queue.
 */
export function upstreamBaseName(kind: Kind, id: ComponentId, storageName?: string): string {
  const raw = storageName === undefined || storageName === ""
    ? `${kind}_${id.type}_${id.name}`
    : `${kind}_${id.type}_${id.name}_${storageName}`;
  return sanitizeFileName(raw);
}

/**
 * The database file name of a client. Names too long for the filesystem become the SHA-256
 * of the base name (as upstream does on ENAMETOOLONG).
 */
export function clientFileName(kind: Kind, id: ComponentId, storageName?: string): string {
  const base = upstreamBaseName(kind, id, storageName);
  const name = base + FILE_SUFFIX;
  if (new TextEncoder().encode(name).length <= MAX_NAME_BYTES) return name;
  return createHash("sha256").update(base).digest("hex") + FILE_SUFFIX;
}
