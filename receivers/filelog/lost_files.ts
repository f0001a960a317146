/**
 * Files no longer found at a matched path (rotated, moved, deleted): drained through the
 * handle still held, or, after a restart or a copy-and-truncate, through a file of the same
 * directory that starts with the same fingerprint (a rotated name, a `.gz`); forgotten once
 * they stayed lost for `polls_to_archive` polls (at least 3) and were read to the end.
 *
 * @module
 */

import type { Logger } from "../../core/telemetry/logger.ts";
import type { FilelogConfig } from "./config.ts";
import { baseName, dirName } from "./file_attrs.ts";
import { isGzip, readHead, startsWith } from "./fingerprint.ts";
import { gzipHeadOrEmpty } from "./gzip_stream.ts";
import type { Handles } from "./handles.ts";
import type { FileReader } from "./reader.ts";
import type { Claims, TrackedFile } from "./tracked_file.ts";

const SIBLING_LIMIT = 200;

/** What draining lost files works with (the tracker's). */
export interface LostFilesContext {
  readonly cfg: FilelogConfig;
  readonly log: Logger;
  readonly reader: FileReader;
  readonly handles: Handles;
  /** Every known file. */
  readonly files: ReadonlySet<TrackedFile>;
  /** Drops a file from every index (closing its handle). */
  readonly forget: (tf: TrackedFile) => void;
  readonly signal: AbortSignal | undefined;
}

/** Drains and retires files that left their path. */
export class LostFiles {
  readonly #log: Logger;
  readonly #fingerprintSize: number;
  readonly #retainPolls: number;
  readonly #reader: FileReader;
  readonly #handles: Handles;
  readonly #files: ReadonlySet<TrackedFile>;
  readonly #forget: (tf: TrackedFile) => void;
  readonly #signal: AbortSignal | undefined;

  /** Works on the tracker's files, reader and handles. */
  constructor(ctx: LostFilesContext) {
    this.#log = ctx.log;
    this.#fingerprintSize = ctx.cfg.fingerprintSize;
    this.#retainPolls = Math.max(3, ctx.cfg.pollsToArchive);
    this.#reader = ctx.reader;
    this.#handles = ctx.handles;
    this.#files = ctx.files;
    this.#forget = ctx.forget;
    this.#signal = ctx.signal;
  }

  /** One poll for a file not found at a matched path: read what it still has. */
  async drain(tf: TrackedFile, now: number, claimed: Claims): Promise<void> {
    tf.lostPolls++;
    let readable = false;
    if (tf.handle !== undefined) {
      let head: Uint8Array;
      try {
        head = readHead(tf.handle, this.#fingerprintSize);
      } catch {
        head = new Uint8Array();
      }
      const content = tf.gzip ? await gzipHeadOrEmpty(tf.handle, this.#fingerprintSize) : head;
      readable = startsWith(content, tf.fp);
      if (!readable) this.#handles.close(tf);
    }
    if (!readable && !tf.searched) {
      tf.searched = true;
      readable = await this.#findSibling(tf, claimed);
    }
    if (readable) {
      const before = tf.readOffset;
      await this.#reader.read(tf, now, false);
      if (tf.readOffset !== before) tf.lostPolls = 1; // still being written: keep draining
    }
    if (this.#signal?.aborted) return; // never forget a file whose reading was cut short
    if (tf.lostPolls > this.#retainPolls) {
      if (readable || tf.handle !== undefined) await this.#reader.read(tf, now, true);
      this.#forget(tf);
    }
  }

  /** Looks for a file's content among its directory's files (rotated names, .gz). */
  async #findSibling(tf: TrackedFile, claimed: Claims): Promise<boolean> {
    const dir = dirName(tf.path || tf.origPath);
    const claimedPaths = new Set<string>();
    for (const t of this.#files) if (claimed.has(t)) claimedPaths.add(t.path);
    const stem = baseName(tf.origPath).split(/[.-]/)[0] ?? "";
    const candidates: Array<{ path: string; mtime: number }> = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if (!e.isFile) continue;
        const path = `${dir === "/" ? "" : dir}/${e.name}`;
        if (claimedPaths.has(path)) continue;
        candidates.push({ path, mtime: e.name.startsWith(stem) ? 1 : 0 });
      }
    } catch {
      return false;
    }
    candidates.sort((a, b) => b.mtime - a.mtime);
    for (const c of candidates.slice(0, SIBLING_LIMIT)) {
      let handle: Deno.FsFile | undefined;
      try {
        handle = Deno.openSync(c.path, { read: true });
        const raw = readHead(handle, this.#fingerprintSize);
        const gz = isGzip(raw);
        const head = gz ? await gzipHeadOrEmpty(handle, this.#fingerprintSize) : raw;
        if (startsWith(head, tf.fp)) {
          tf.close();
          tf.handle = handle;
          tf.gzip = gz;
          this.#handles.use(tf);
          this.#log.info("Found rotated file by fingerprint; reading its remainder", {
            path: tf.origPath,
            rotated_path: c.path,
            offset: tf.readOffset,
          });
          return true;
        }
        handle.close();
      } catch {
        handle?.close();
      }
    }
    return false;
  }
}
