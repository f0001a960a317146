/**
 * Config of the `file_storage` extension: upstream's keys and defaults, read onto defaults
 * with every problem reported at its `extensions::file_storage/<name>::<key>` path.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";

/** Upstream's default data directory on Linux and macOS. */
export const DEFAULT_DIRECTORY = "/var/lib/otelcol/file_storage";

/** `compaction` section, as upstream's `CompactionConfig`. */
export interface CompactionConfig {
  /** Compact each client's database when it is opened. @default false */
  readonly onStart: boolean;
  /** Compact online when the file grew past `reboundNeededThresholdMiB` and drained. @default false */
  readonly onRebound: boolean;
  /**
   * Upstream's directory for temporary compaction files. Compaction here happens in place
   * (SQLite incremental vacuum), so it is only where `cleanupOnStart` looks.
   * @default "/var/lib/otelcol/file_storage"
   */
  readonly directory: string;
  /** Free pages released per compaction transaction; 0 means all in one. @default 65536 */
  readonly maxTransactionSize: number;
  /** Allocated size (MiB) from which online compaction becomes needed. @default 100 */
  readonly reboundNeededThresholdMiB: number;
  /** Once needed, compact when live data is at or below this (MiB). @default 10 */
  readonly reboundTriggerThresholdMiB: number;
  /** How often the rebound condition is checked, in milliseconds. @default 5000 */
  readonly checkIntervalMs: number;
  /** Remove upstream's leftover `tempdb*` files from `directory` on start. @default false */
  readonly cleanupOnStart: boolean;
}

/** Typed config of one `file_storage` instance. */
export interface FileStorageConfig {
  /** Where the database files live. @default "/var/lib/otelcol/file_storage" */
  readonly directory: string;
  /** Create `directory` (and missing parents) on start. @default false */
  readonly createDirectory: boolean;
  /** Mode of every directory created, applied exactly (not masked by umask). @default 0o750 */
  readonly directoryPermissions: number;
  /** How long to wait for another holder of a database file; 0 waits forever. @default 1000 */
  readonly timeoutMs: number;
  /** `true`: every acknowledged write survives power loss (SQLite `synchronous=FULL`). @default false */
  readonly fsync: boolean;
  /** Move a corrupt database aside and start an empty one instead of failing. @default false */
  readonly recreate: boolean;
  readonly compaction: CompactionConfig;
}

/** Returns upstream's defaults. */
export function defaultFileStorageConfig(): FileStorageConfig {
  return {
    directory: DEFAULT_DIRECTORY,
    createDirectory: false,
    directoryPermissions: 0o750,
    timeoutMs: 1000,
    fsync: false,
    recreate: false,
    compaction: {
      onStart: false,
      onRebound: false,
      directory: DEFAULT_DIRECTORY,
      maxTransactionSize: 65536,
      reboundNeededThresholdMiB: 100,
      reboundTriggerThresholdMiB: 10,
      checkIntervalMs: 5000,
      cleanupOnStart: false,
    },
  };
}

const OCTAL = /^0?[0-7]{1,4}$|^0o[0-7]{1,4}$/;

/**
 * Parses an octal permission string such as "0750"; returns an error message instead when
 * it is not one, or sets bits outside 0777.
 */
export function parsePermissions(text: string): number | string {
  const t = text.trim();
  if (!OCTAL.test(t)) {
    return `Invalid permissions ${JSON.stringify(text)}: write an octal string such as "0750"`;
  }
  const mode = parseInt(t.startsWith("0o") ? t.slice(2) : t, 8);
  if (mode > 0o777) {
    return `Invalid permissions ${
      JSON.stringify(text)
    }: only the permission bits 0777 can be set, not setuid, setgid or sticky`;
  }
  return mode;
}

/** Reads a `file_storage` section onto the defaults; problems go to the reader. */
export function parseFileStorageConfig(r: ConfigReader): FileStorageConfig {
  const def = defaultFileStorageConfig();
  const directory = r.string("directory", def.directory);
  if (directory.trim() === "") r.error("directory", "Must not be empty: give the data directory");
  const createDirectory = r.bool("create_directory", def.createDirectory);

  let directoryPermissions = def.directoryPermissions;
  const permText = r.optionalString("directory_permissions");
  if (permText !== undefined) {
    const parsed = parsePermissions(permText);
    if (typeof parsed === "string") {
      // Upstream only checks the value when it is used; keep configs it accepts valid.
      if (createDirectory) r.error("directory_permissions", parsed);
      else r.warn("directory_permissions", `${parsed} (ignored: create_directory is false)`);
    } else if (createDirectory && (parsed & 0o700) !== 0o700) {
      r.error(
        "directory_permissions",
        `The owner needs read, write and search permission (0700) on the directories it creates: current value is ${
          JSON.stringify(permText)
        }`,
      );
    } else {
      directoryPermissions = parsed;
    }
  }

  const timeoutMs = r.duration("timeout", def.timeoutMs);
  const fsync = r.bool("fsync", def.fsync);
  const recreate = r.bool("recreate", def.recreate);
  const compaction = parseCompaction(r.section("compaction"), def.compaction);
  return {
    directory,
    createDirectory,
    directoryPermissions,
    timeoutMs,
    fsync,
    recreate,
    compaction,
  };
}

function parseCompaction(c: ConfigReader, def: CompactionConfig): CompactionConfig {
  const onStart = c.bool("on_start", def.onStart);
  const onRebound = c.bool("on_rebound", def.onRebound);
  const directory = c.string("directory", def.directory);
  const maxTransactionSize = c.int("max_transaction_size", def.maxTransactionSize, { min: 0 });
  const reboundNeededThresholdMiB = c.int(
    "rebound_needed_threshold_mib",
    def.reboundNeededThresholdMiB,
    { min: 0 },
  );
  const reboundTriggerThresholdMiB = c.int(
    "rebound_trigger_threshold_mib",
    def.reboundTriggerThresholdMiB,
    { min: 0 },
  );
  let checkIntervalMs = c.duration("check_interval", def.checkIntervalMs);
  if (onRebound && checkIntervalMs <= 0) {
    c.error("check_interval", "Must be positive when on_rebound is true: current value is 0");
    checkIntervalMs = def.checkIntervalMs;
  }
  const cleanupOnStart = c.bool("cleanup_on_start", def.cleanupOnStart);
  return {
    onStart,
    onRebound,
    directory,
    maxTransactionSize,
    reboundNeededThresholdMiB,
    reboundTriggerThresholdMiB,
    checkIntervalMs,
    cleanupOnStart,
  };
}
