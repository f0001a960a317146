/**
 * One component's key-value store: a SQLite database (WAL, exclusive locking) in its own
 * file. Every `set`/`delete` and every `batch` is one transaction; nothing is acknowledged
 * before SQLite committed it.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { StorageClient, StorageOperation } from "../../core/storage.ts";
import type { CompactionConfig } from "./config.ts";
import {
  databaseBytes,
  DatabaseCorruptError,
  describeOpError,
  MIB,
  moveAside,
  openDatabase,
  type OpenOptions,
  prepareFile,
  sleep,
} from "./database.ts";

/** Options of {@linkcode SqliteStorageClient.open}. */
export interface SqliteClientOptions extends OpenOptions {
  /** Move a corrupt file aside and start empty instead of failing. */
  readonly recreate: boolean;
  readonly compaction: CompactionConfig;
  /** Called once when the client is closed. */
  readonly onClose?: () => void;
}

/** What {@linkcode SqliteStorageClient.stats} reports. */
export interface DatabaseStats {
  readonly journalMode: string;
  readonly lockingMode: string;
  /** 1 = NORMAL, 2 = FULL. */
  readonly synchronous: number;
  /** 2 = incremental. */
  readonly autoVacuum: number;
  readonly pageSize: number;
  readonly pageCount: number;
  readonly freelistCount: number;
  /** Bytes the database occupies once checkpointed (`page_count * page_size`). */
  readonly allocatedBytes: number;
  /** Bytes in pages that hold data (`allocated - free pages`). */
  readonly liveBytes: number;
}

/** Result of one compaction. */
export interface CompactionResult {
  /** Main file plus WAL before, in bytes. */
  readonly beforeBytes: number;
  /** Main file plus WAL after, in bytes. */
  readonly afterBytes: number;
  readonly pagesFreed: number;
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== "string") {
    throw new TypeError(`Storage keys must be strings: got ${typeof key}`);
  }
}

function checkValue(key: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(
      `Storage values must be Uint8Array: got ${value === null ? "null" : typeof value} for key ${
        JSON.stringify(key)
      }`,
    );
  }
}

/** A {@linkcode StorageClient} over one SQLite database file. */
export class SqliteStorageClient implements StorageClient {
  /** The database file. */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #opts: SqliteClientOptions;
  readonly #get: StatementSync;
  readonly #set: StatementSync;
  readonly #delete: StatementSync;
  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  readonly #vacuum: StatementSync;
  readonly #freelist: StatementSync;
  #closed = false;
  #compacting = false;
  #reboundNeeded = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(db: DatabaseSync, opts: SqliteClientOptions) {
    this.path = opts.path;
    this.#db = db;
    this.#opts = opts;
    this.#get = db.prepare("SELECT v FROM kv WHERE k = ?");
    this.#set = db.prepare(
      "INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    );
    this.#delete = db.prepare("DELETE FROM kv WHERE k = ?");
    this.#begin = db.prepare("BEGIN IMMEDIATE");
    this.#commit = db.prepare("COMMIT");
    this.#rollback = db.prepare("ROLLBACK");
    const step = opts.compaction.maxTransactionSize;
    this.#vacuum = db.prepare(`PRAGMA incremental_vacuum(${step > 0 ? step : 0})`);
    this.#freelist = db.prepare("PRAGMA freelist_count");
    if (opts.compaction.onRebound) {
      const timer = setInterval(() => this.#checkRebound(), opts.compaction.checkIntervalMs);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /**
   * Opens (creating with mode 0600 when missing) the database at `opts.path`, waits up to
   * `timeoutMs` for another holder, and checks its integrity. A corrupt file is moved aside
   * with a warning when `recreate` is set; otherwise the error says what to do.
   */
  static async open(opts: SqliteClientOptions): Promise<SqliteStorageClient> {
    prepareFile(opts.path);
    let db: DatabaseSync;
    try {
      db = await openDatabase(opts);
    } catch (e) {
      if (!(e instanceof DatabaseCorruptError) || !opts.recreate) throw e;
      const backup = moveAside(opts.path);
      opts.logger.warn(
        "Database file was corrupt: moved it aside and started with an empty one (recreate: true)",
        { path: opts.path, backup, error: (e.cause as Error | undefined)?.message ?? e.message },
      );
      prepareFile(opts.path);
      db = await openDatabase(opts);
    }
    return new SqliteStorageClient(db, opts);
  }

  #check(): void {
    if (this.#closed) throw new Error(`Storage client for "${this.path}" is closed`);
  }

  /** The stored value, or `undefined` when the key is missing. */
  get(key: string): Promise<Uint8Array | undefined> {
    try {
      this.#check();
      checkKey(key);
      const row = this.#get.get(key) as { v: Uint8Array } | undefined;
      return Promise.resolve(row?.v);
    } catch (e) {
      return Promise.reject(this.#wrap("get", e));
    }
  }

  /** Stores `value` under `key` in one transaction. */
  set(key: string, value: Uint8Array): Promise<void> {
    try {
      this.#check();
      checkKey(key);
      checkValue(key, value);
      this.#set.run(key, value);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(this.#wrap("set", e));
    }
  }

  /** Removes `key`; no error when it is missing. */
  delete(key: string): Promise<void> {
    try {
      this.#check();
      checkKey(key);
      this.#delete.run(key);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(this.#wrap("delete", e));
    }
  }

  /** Applies `ops` in order in one transaction; `get` results land in their `value`. */
  batch(ops: StorageOperation[]): Promise<void> {
    try {
      this.#check();
      // Validate everything first so a bad operation never leaves a partial batch.
      for (const op of ops) {
        checkKey(op.key);
        if (op.type === "set") checkValue(op.key, op.value);
        else if (op.type !== "get" && op.type !== "delete") {
          throw new TypeError(
            `Unknown storage operation type ${JSON.stringify((op as { type: unknown }).type)}`,
          );
        }
      }
      if (ops.length === 0) return Promise.resolve();
      this.#begin.run();
      try {
        for (const op of ops) {
          if (op.type === "get") {
            op.value = (this.#get.get(op.key) as { v: Uint8Array } | undefined)?.v;
          } else if (op.type === "set") this.#set.run(op.key, op.value);
          else this.#delete.run(op.key);
        }
        this.#commit.run();
      } catch (e) {
        if (this.#db.isTransaction) this.#rollback.run();
        throw e;
      }
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(this.#wrap("batch", e));
    }
  }

  #wrap(op: string, e: unknown): Error {
    if (e instanceof TypeError) return e;
    if (this.#closed && e instanceof Error && e.message.includes("is closed")) return e;
    return describeOpError(this.path, op, e);
  }

  /** Page counts and modes of the database (for diagnostics and tests). */
  stats(): DatabaseStats {
    this.#check();
    const one = (sql: string): unknown => Object.values(this.#db.prepare(sql).get() ?? {})[0];
    const pageSize = Number(one("PRAGMA page_size"));
    const pageCount = Number(one("PRAGMA page_count"));
    const freelistCount = Number(one("PRAGMA freelist_count"));
    return {
      journalMode: String(one("PRAGMA journal_mode")),
      lockingMode: String(one("PRAGMA locking_mode")),
      synchronous: Number(one("PRAGMA synchronous")),
      autoVacuum: Number(one("PRAGMA auto_vacuum")),
      pageSize,
      pageCount,
      freelistCount,
      allocatedBytes: pageCount * pageSize,
      liveBytes: (pageCount - freelistCount) * pageSize,
    };
  }

  /**
   * Releases free pages to the filesystem (SQLite incremental vacuum, at most
   * `max_transaction_size` pages per transaction, yielding in between) and truncates the
   * WAL. Crash-safe: each step is a SQLite transaction. Returns undefined when skipped.
   */
  async compact(): Promise<CompactionResult | undefined> {
    if (this.#closed || this.#compacting) return undefined;
    this.#compacting = true;
    const started = performance.now();
    try {
      const stats = this.stats();
      if (stats.autoVacuum !== 2) {
        this.#opts.logger.warn(
          "Compaction skipped: this database was not created with incremental vacuum",
          { path: this.path },
        );
        return undefined;
      }
      const beforeBytes = databaseBytes(this.path);
      let free = stats.freelistCount;
      const initialFree = free;
      while (free > 0) {
        this.#vacuum.all();
        const now = Number(Object.values(this.#freelist.get() ?? {})[0]);
        if (now >= free) break; // no progress: do not spin
        free = now;
        if (free > 0) {
          await sleep(0); // let other operations run between steps
          if (this.#closed) return undefined;
        }
      }
      this.#db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
      const result = {
        beforeBytes,
        afterBytes: databaseBytes(this.path),
        pagesFreed: initialFree - free,
      };
      this.#opts.logger.info("Finished compaction", {
        path: this.path,
        before_bytes: result.beforeBytes,
        after_bytes: result.afterBytes,
        elapsed_ms: Math.round(performance.now() - started),
      });
      return result;
    } catch (e) {
      this.#opts.logger.error("Compaction failed", {
        path: this.path,
        error: this.#wrap("compaction", e).message,
      });
      return undefined;
    } finally {
      this.#compacting = false;
    }
  }

  #checkRebound(): void {
    if (this.#closed || this.#compacting) return;
    let stats: DatabaseStats;
    try {
      stats = this.stats();
    } catch (e) {
      this.#opts.logger.error("Cannot read the database size", { path: this.path, error: e });
      return;
    }
    const c = this.#opts.compaction;
    if (stats.allocatedBytes >= c.reboundNeededThresholdMiB * MIB) this.#reboundNeeded = true;
    if (
      this.#reboundNeeded && stats.freelistCount > 0 &&
      stats.liveBytes <= c.reboundTriggerThresholdMiB * MIB
    ) {
      this.#reboundNeeded = false;
      this.#opts.logger.debug("Starting rebound compaction", {
        path: this.path,
        allocated_bytes: stats.allocatedBytes,
        live_bytes: stats.liveBytes,
      });
      void this.compact();
    }
  }

  /** Closes the database (checkpointing the WAL); later calls reject. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    try {
      this.#db.close();
    } catch (e) {
      return Promise.reject(describeOpError(this.path, "close", e));
    } finally {
      this.#opts.onClose?.();
    }
    return Promise.resolve();
  }
}
