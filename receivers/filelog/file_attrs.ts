/**
 * The `log.file.*` attributes a file contributes to each of its records, computed once
 * when the file is first seen.
 *
 * @module
 */

import type { FilelogConfig } from "./config.ts";
import type { ValueMap } from "../../pkg/stanza/entry.ts";

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;

function readIds(path: string): Map<number, string> {
  const out = new Map<number, string>();
  try {
    for (const line of Deno.readTextFileSync(path).split("\n")) {
      const f = line.split(":");
      if (f.length >= 3 && /^\d+$/.test(f[2]!)) out.set(Number(f[2]), f[0]!);
    }
  } catch {
    // No passwd/group file (scratch images): fall back to numeric ids.
  }
  return out;
}

/** Returns the base name of a path (after the last / or \). */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? path : path.slice(i + 1);
}

/** Returns the directory of a path. */
export function dirName(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/** Computes the file attributes upstream adds for `path` under `cfg`. */
export function fileAttributes(
  cfg: FilelogConfig,
  path: string,
  st: Deno.FileInfo | undefined,
): ValueMap {
  const a: ValueMap = {};
  if (cfg.includeFileName) a["log.file.name"] = baseName(path);
  if (cfg.includeFilePath) a["log.file.path"] = path;
  if (cfg.includeFileNameResolved || cfg.includeFilePathResolved) {
    let resolved = path;
    try {
      resolved = Deno.realPathSync(path);
    } catch {
      // Gone already: keep the path as seen.
    }
    if (cfg.includeFileNameResolved) a["log.file.name_resolved"] = baseName(resolved);
    if (cfg.includeFilePathResolved) a["log.file.path_resolved"] = resolved;
  }
  if (st !== undefined) {
    if (cfg.includeFileOwnerName && st.uid !== null) {
      users ??= readIds("/etc/passwd");
      a["log.file.owner.name"] = users.get(st.uid) ?? String(st.uid);
    }
    if (cfg.includeFileOwnerGroupName && st.gid !== null) {
      groups ??= readIds("/etc/group");
      a["log.file.owner.group.name"] = groups.get(st.gid) ?? String(st.gid);
    }
    if (cfg.includeFilePermissions && st.mode !== null) {
      a["log.file.permissions"] = (st.mode & 0o777).toString(8).padStart(3, "0");
    }
  }
  return a;
}
