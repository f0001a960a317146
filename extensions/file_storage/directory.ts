/**
 * The data directory: created with exact permissions when asked, checked for writability
 * by really writing, and described precisely (uid, gid, mode) when the process may not use it.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";

/** Formats a mode as `0755 (drwxr-xr-x)`. */
export function describeMode(mode: number, isDirectory = true): string {
  const perm = mode & 0o777;
  const bits = "rwxrwxrwx".split("").map((c, i) => (perm & (1 << (8 - i))) !== 0 ? c : "-");
  // setuid/setgid/sticky show in the execute slots, as ls does.
  if (mode & 0o4000) bits[2] = bits[2] === "x" ? "s" : "S";
  if (mode & 0o2000) bits[5] = bits[5] === "x" ? "s" : "S";
  if (mode & 0o1000) bits[8] = bits[8] === "x" ? "t" : "T";
  const octal = (mode & 0o7777).toString(8).padStart(4, "0");
  return `${octal} (${isDirectory ? "d" : "-"}${bits.join("")})`;
}

/** The process's uid and gid as text; "unknown" when `--allow-sys` does not grant them. */
export function processIdentity(): { uid: string; gid: string } {
  const read = (f: () => number | null): string => {
    try {
      const v = f();
      return v === null ? "unknown" : String(v);
    } catch {
      return "unknown (grant --allow-sys=uid,gid to show it)";
    }
  };
  return { uid: read(Deno.uid), gid: read(Deno.gid) };
}

/**
 * The message for a path this process may not write: the path, who we are, who owns it
 * and with what mode, and how to fix it.
 */
export function permissionDeniedMessage(path: string, doing: string, option: string): string {
  const me = processIdentity();
  let found = "its owner and mode could not be read";
  try {
    const st = Deno.statSync(path);
    found = `it is owned by uid ${st.uid ?? "?"}, gid ${st.gid ?? "?"} with mode ${
      describeMode(st.mode ?? 0, st.isDirectory)
    }`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) found = "it does not exist";
  }
  return `Permission denied ${doing} "${path}" as uid ${me.uid}, gid ${me.gid}: ${found}. ` +
    `Give this user write and search access to it (Kubernetes: securityContext.fsGroup, ` +
    `or an initContainer that chowns it), or set "${option}" to a directory it can write`;
}

function isReadOnlyFs(e: unknown): boolean {
  return e instanceof Error && /read-only file system|os error 30\b/i.test(e.message);
}

/** Options for {@linkcode ensureDirectory}. */
export interface EnsureDirectoryOptions {
  /** Create it and its missing parents. */
  create: boolean;
  /** Mode for every directory created, applied with chmod so umask does not mask it. */
  permissions: number;
  /** The config key that names this directory, for messages (e.g. "directory"). */
  option: string;
}

/**
 * Makes sure `dir` is an existing directory, creating it (and missing parents) when
 * `create` is set. Returns the directories it created, outermost first. Throws an error
 * that names the path and the option to change.
 */
export function ensureDirectory(dir: string, opts: EnsureDirectoryOptions): string[] {
  const path = resolve(dir);
  let st: Deno.FileInfo | undefined;
  try {
    st = statOrUndefined(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    throw new Error(permissionDeniedMessage(dirname(path), "searching directory", opts.option), {
      cause: e,
    });
  }
  if (st !== undefined) {
    if (!st.isDirectory) {
      throw new Error(
        `"${path}" exists but is not a directory: set "${opts.option}" to a directory`,
      );
    }
    return [];
  }
  if (!opts.create) {
    throw new Error(
      `Directory "${path}" does not exist: create it, or set "create_directory: true" ` +
        `so the extension creates it (with "directory_permissions", default "0750")`,
    );
  }
  const missing: string[] = [];
  for (let p = path; statOrUndefined(p) === undefined; p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  const created: string[] = [];
  for (const p of missing) {
    try {
      Deno.mkdirSync(p, { mode: opts.permissions });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists && statOrUndefined(p)?.isDirectory) continue;
      if (e instanceof Deno.errors.PermissionDenied) {
        throw new Error(
          permissionDeniedMessage(dirname(p), "creating a directory in", opts.option),
          {
            cause: e,
          },
        );
      }
      throw new Error(`Cannot create directory "${p}" for "${opts.option}": ${errText(e)}`, {
        cause: e,
      });
    }
    // mkdir applies the umask; the configured mode is meant exactly.
    Deno.chmodSync(p, opts.permissions);
    created.push(p);
  }
  return created;
}

/**
 * Proves `dir` is writable by creating and removing a small file in it; throws a message
 * with uid, gid, owner and mode on permission denied, and names read-only filesystems.
 */
export function checkWritable(dir: string, option: string): void {
  const path = resolve(dir);
  const probe = join(path, `.file_storage_probe_${Deno.pid}_${crypto.randomUUID()}`);
  try {
    Deno.openSync(probe, { write: true, createNew: true, mode: 0o600 }).close();
    Deno.removeSync(probe);
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new Error(permissionDeniedMessage(path, "writing into directory", option), {
        cause: e,
      });
    }
    if (isReadOnlyFs(e)) {
      throw new Error(
        `Directory "${path}" is on a read-only filesystem: mount it read-write, or set "${option}" to a writable directory`,
        { cause: e },
      );
    }
    throw new Error(`Cannot write into directory "${path}" ("${option}"): ${errText(e)}`, {
      cause: e,
    });
  }
}

function statOrUndefined(p: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Deno.errors.NotADirectory) return undefined;
    throw e;
  }
}

/** An error's message, or its text. */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
