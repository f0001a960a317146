/**
 * Opening a component's SQLite database: one process per file (exclusive locking, waiting
 * up to `timeout` without blocking the event loop), WAL mode, an integrity check, and the
 * errors a user can act on (locked, corrupt, disk full, permission denied).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import type { Logger } from "../../core/telemetry/logger.ts";
import { errText, permissionDeniedMessage } from "./directory.ts";

/** One mebibyte. */
export const MIB = 1024 * 1024;
/** The WAL is truncated back to this size after a checkpoint. */
const WAL_SIZE_LIMIT = 4 * MIB;
/** Pause between attempts to take a database another holder has locked. */
const LOCK_RETRY_MS = 25;
/** With `timeout: 0` (wait forever), how often to say we are still waiting. */
const LOCK_WARN_EVERY_MS = 10_000;

// SQLite primary result codes (https://sqlite.org/rescode.html).
const SQLITE_PERM = 3;
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

const CREATE_TABLE = "CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY NOT NULL, v BLOB NOT NULL)";

/** What {@linkcode openDatabase} needs. */
export interface OpenOptions {
  /** The database file. */
  readonly path: string;
  /** How long to wait for another holder of the file; 0 waits forever. */
  readonly timeoutMs: number;
  /** `synchronous=FULL` (survives power loss) instead of `NORMAL` (survives a crash). */
  readonly fsync: boolean;
  readonly logger: Logger;
}

/** The database file is held by another process or another connection of this one. */
export class DatabaseLockedError extends Error {
  /** Builds the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DatabaseLockedError";
  }
}

/** The database file is not a valid SQLite database. */
export class DatabaseCorruptError extends Error {
  /** Builds the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DatabaseCorruptError";
  }
}

function primaryCode(e: unknown): number | undefined {
  const code = (e as { errcode?: unknown }).errcode;
  return typeof code === "number" ? code & 0xff : undefined;
}

function isLocked(e: unknown): boolean {
  const c = primaryCode(e);
  return c === SQLITE_BUSY || c === SQLITE_LOCKED || /database is locked/i.test(errText(e));
}

function isCorrupt(e: unknown): boolean {
  if (e instanceof DatabaseCorruptError) return true;
  const c = primaryCode(e);
  return c === SQLITE_CORRUPT || c === SQLITE_NOTADB ||
    /malformed|file is not a database/i.test(errText(e));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** Bytes on disk of a database: the main file and its WAL. */
export function databaseBytes(path: string): number {
  return fileSize(path) + fileSize(path + "-wal");
}

function syncDirectory(dir: string): void {
  try {
    const f = Deno.openSync(dir, { read: true });
    try {
      f.syncSync();
    } finally {
      f.close();
    }
  } catch {
    // Best effort: some filesystems refuse fsync on directories.
  }
}

/** Creates the file with mode 0600 when missing, and proves we may read and write it. */
export function prepareFile(path: string): void {
  try {
    Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 }).close();
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) {
      let exists = true;
      try {
        Deno.statSync(path);
      } catch {
        exists = false;
      }
      throw new Error(
        exists
          ? permissionDeniedMessage(path, "opening database file", "directory")
          : permissionDeniedMessage(dirname(path), "creating a database file in", "directory"),
        { cause: e },
      );
    }
    throw new Error(`Cannot open database file "${path}": ${errText(e)}`, { cause: e });
  }
}

function configure(db: DatabaseSync, fsync: boolean): void {
  // Exclusive locking: one process per file (as bbolt's flock), and no -shm file.
  db.exec("PRAGMA locking_mode=EXCLUSIVE");
  // Only takes effect on a new database; lets compaction release pages in place.
  db.exec("PRAGMA auto_vacuum=INCREMENTAL");
  const jm = (db.prepare("PRAGMA journal_mode=WAL").get() as { journal_mode?: string })
    ?.journal_mode;
  if (jm !== "wal") throw new Error(`SQLite refused WAL mode (journal_mode is "${jm}")`);
  db.exec(`PRAGMA synchronous=${fsync ? "FULL" : "NORMAL"}`);
  db.exec(`PRAGMA journal_size_limit=${WAL_SIZE_LIMIT}`);
  // A write transaction takes the exclusive lock now, and locking_mode keeps it.
  db.exec("BEGIN IMMEDIATE");
  db.exec(CREATE_TABLE);
  db.exec("COMMIT");
  const rows = db.prepare("PRAGMA quick_check").all() as { quick_check: string }[];
  if (rows.length !== 1 || rows[0]!.quick_check !== "ok") {
    throw new DatabaseCorruptError(
      `integrity check failed: ${rows.slice(0, 3).map((r) => r.quick_check).join("; ")}`,
    );
  }
}

function backupStamp(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Moves a database and its WAL aside as `<file>.<UTC time>.backup[-wal]`; returns the new name. */
export function moveAside(path: string): string {
  const backup = `${path}.${backupStamp()}.backup`;
  Deno.renameSync(path, backup);
  for (const suffix of ["-wal", "-shm", "-journal"]) {
    try {
      Deno.renameSync(path + suffix, backup + suffix);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  syncDirectory(dirname(path));
  return backup;
}

/**
 * Opens `opts.path` (created 0600 by the caller), takes its exclusive lock, waiting up to
 * `timeoutMs` (0: forever), and checks its integrity. Throws {@linkcode DatabaseLockedError},
 * {@linkcode DatabaseCorruptError} or an error that says what to do.
 */
export async function openDatabase(opts: OpenOptions): Promise<DatabaseSync> {
  const started = Date.now();
  const deadline = opts.timeoutMs > 0 ? started + opts.timeoutMs : Infinity;
  let lastWarn = started;
  for (;;) {
    let db: DatabaseSync | undefined;
    try {
      // Busy timeout 0: waiting happens here, without blocking the event loop.
      db = new DatabaseSync(opts.path, { timeout: 0 });
      configure(db, opts.fsync);
      return db;
    } catch (e) {
      try {
        db?.close();
      } catch {
        // already failed; the first error is the one to report
      }
      const now = Date.now();
      if (isLocked(e)) {
        if (now >= deadline) {
          throw new DatabaseLockedError(
            `Database file "${opts.path}" is in use by another process (or by another ` +
              `file_storage instance with the same directory): still locked after ${opts.timeoutMs}ms ` +
              `("timeout"). Stop the other collector, or give each its own "directory"`,
            { cause: e },
          );
        }
        if (now - lastWarn >= LOCK_WARN_EVERY_MS) {
          lastWarn = now;
          opts.logger.warn("Waiting for the database file held by another process", {
            path: opts.path,
            waited_ms: now - started,
          });
        }
        await sleep(Math.min(LOCK_RETRY_MS, deadline - now));
        continue;
      }
      if (isCorrupt(e)) {
        throw new DatabaseCorruptError(
          `Database file "${opts.path}" is corrupt (${errText(e)}): stop the collector and move ` +
            `it and its "-wal" file aside (their content is lost), or set "recreate: true" to do ` +
            `that automatically`,
          { cause: e },
        );
      }
      throw describeOpError(opts.path, "open", e);
    }
  }
}

/** Turns a SQLite error of operation `op` into one that says what happened and what to do. */
export function describeOpError(path: string, op: string, e: unknown): Error {
  const msg = errText(e);
  const where = `file_storage: ${op} on "${path}" failed`;
  switch (primaryCode(e)) {
    case SQLITE_FULL:
      return new Error(
        `${where}: the disk is full (${msg}). Nothing of this operation was written and ` +
          `earlier data is intact; free space on the filesystem holding "${dirname(path)}"`,
        { cause: e },
      );
    case SQLITE_IOERR:
      return new Error(
        `${where}: ${msg}. Nothing of this operation was written; check free space, the ` +
          `file-size limit (ulimit -f) and the health of the filesystem holding "${dirname(path)}"`,
        { cause: e },
      );
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return new Error(
        `${where}: the database file is corrupt (${msg}). Stop the collector and move it ` +
          `and its "-wal" file aside, or set "recreate: true" to do that on the next start ` +
          `(their content is lost)`,
        { cause: e },
      );
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return new Error(
        `${where}: ${msg}. Check that the file and "${
          dirname(path)
        }" are writable by this process and the filesystem is mounted read-write`,
        { cause: e },
      );
    default:
      return new Error(`${where}: ${msg}`, { cause: e });
  }
}
