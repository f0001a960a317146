/**
 * The `file_storage` extension: prepares the data directory on start and hands each
 * component its own SQLite-backed {@linkcode StorageClient}.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { ComponentId, CreateSettings, Host, Kind } from "../../core/component.ts";
import type { StorageClient, StorageExtension } from "../../core/storage.ts";
import type { FileStorageConfig } from "./config.ts";
import { checkWritable, ensureDirectory, errText } from "./directory.ts";
import { clientFileName, upstreamBaseName } from "./file_name.ts";
import { SqliteStorageClient } from "./sqlite_client.ts";

/** Prefix of upstream's temporary compaction files (removed by `cleanup_on_start`). */
export const TEMP_DB_PREFIX = "tempdb";

/** A running `file_storage` instance. */
export class FileStorageExtension implements StorageExtension {
  readonly #settings: CreateSettings;
  readonly #config: FileStorageConfig;
  readonly #directory: string;
  readonly #clients = new Map<string, SqliteStorageClient>();
  /** Files whose client is being opened (so a concurrent second request fails fast). */
  readonly #opening = new Set<string>();
  #started = false;
  #stopped = false;

  /** Builds the extension; nothing touches the disk before `start`. */
  constructor(settings: CreateSettings, config: FileStorageConfig) {
    this.#settings = settings;
    this.#config = config;
    this.#directory = resolve(config.directory);
  }

  /** The absolute data directory. */
  get directory(): string {
    return this.#directory;
  }

  /**
   * Creates the directory when `create_directory` is set (missing parents too, each with
   * `directory_permissions` exactly), proves it writable, and runs `cleanup_on_start`.
   */
  start(_host: Host): Promise<void> {
    try {
      const created = ensureDirectory(this.#directory, {
        create: this.#config.createDirectory,
        permissions: this.#config.directoryPermissions,
        option: "directory",
      });
      if (created.length > 0) {
        this.#settings.logger.info("Created the storage directory", {
          directory: this.#directory,
          created,
          mode: this.#config.directoryPermissions.toString(8).padStart(4, "0"),
        });
      }
      checkWritable(this.#directory, "directory");
      if (this.#config.compaction.cleanupOnStart) this.#cleanup();
    } catch (e) {
      return Promise.reject(e);
    }
    this.#started = true;
    this.#stopped = false;
    return Promise.resolve();
  }

  #cleanup(): void {
    const dir = resolve(this.#config.compaction.directory);
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch (e) {
      this.#settings.logger.info("Compaction cleanup skipped: cannot list the directory", {
        directory: dir,
        error: errText(e),
      });
      return;
    }
    for (const entry of entries) {
      if (!entry.isFile || !entry.name.startsWith(TEMP_DB_PREFIX)) continue;
      const path = join(dir, entry.name);
      try {
        Deno.removeSync(path);
        this.#settings.logger.debug("Removed a leftover compaction file", { path });
      } catch (e) {
        this.#settings.logger.info("Cannot remove a leftover compaction file", {
          path,
          error: errText(e),
        });
      }
    }
  }

  /**
   * Opens the client of one component. Its file is `<kind>_<type>_<name>[_<storageName>].sqlite`
   * in the data directory. Rejects when the extension is not started, when the same client
   * is already open, or when the database cannot be opened (locked, corrupt, unwritable).
   */
  async getClient(kind: Kind, id: ComponentId, storageName?: string): Promise<StorageClient> {
    if (!this.#started || this.#stopped) {
      throw new Error(
        `Storage extension "${this.#settings.id}" is not running: it must be started before ${kind} "${id}" asks for storage`,
      );
    }
    const path = join(this.#directory, clientFileName(kind, id, storageName));
    const owner = `${kind} "${id}"${storageName ? ` (storage "${storageName}")` : ""}`;
    if (this.#clients.has(path) || this.#opening.has(path)) {
      throw new Error(
        `Storage for ${owner} is already open in "${path}": close the first client before asking again`,
      );
    }
    this.#warnAboutUpstreamFile(kind, id, storageName);
    this.#opening.add(path);
    let client: SqliteStorageClient;
    try {
      client = await SqliteStorageClient.open({
        path,
        timeoutMs: this.#config.timeoutMs,
        fsync: this.#config.fsync,
        recreate: this.#config.recreate,
        compaction: this.#config.compaction,
        logger: this.#settings.logger.with({ path }),
        onClose: () => this.#clients.delete(path),
      });
    } finally {
      this.#opening.delete(path);
    }
    this.#clients.set(path, client);
    if (this.#config.compaction.onStart) await client.compact();
    return client;
  }

  #warnAboutUpstreamFile(kind: Kind, id: ComponentId, storageName?: string): void {
    const upstream = join(this.#directory, upstreamBaseName(kind, id, storageName));
    try {
      if (!Deno.statSync(upstream).isFile) return;
    } catch {
      return;
    }
    this.#settings.logger.warn(
      "Found a file_storage file written by the upstream collector (bbolt); it is left untouched " +
        "and not read, so this component starts without its old state",
      { upstream_file: upstream },
    );
  }

  /** Closes every client still open. Safe without start and more than once. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    const errors: Error[] = [];
    for (const client of [...this.#clients.values()]) {
      try {
        await client.close();
      } catch (e) {
        errors.push(e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.#clients.clear();
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, "Closing storage clients failed");
  }
}
