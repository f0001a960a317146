/**
 * The poll cycle: find files, identify each by fingerprint (a cheap stat short-cut for
 * files unchanged at the same inode), drain files that left their path (through the held
 * handle, or a sibling found by fingerprint after a restart or copytruncate), then read
 * current files to their end and hand every token to the operator chain.
 *
 * @module
 */

import type { Logger } from "../../core/telemetry/logger.ts";
import type { FilelogConfig } from "./config.ts";
import type { Entry, ValueMap } from "./entry.ts";
import { baseName, dirName, fileAttributes } from "./file_attrs.ts";
import { FingerprintIndex, gunzip, isGzip, readHead, startsWith } from "./fingerprint.ts";
import { Finder } from "./glob.ts";
import { Splitter, TokenDecoder } from "./split.ts";
import { TrackedFile } from "./tracked_file.ts";

/** What the tracker hands its tokens to. */
export interface TrackerOutput {
  /** One token as an entry (synchronous: the operator chain). */
  entry(e: Entry): void;
  /** Called after each chunk of a file; may wait for the consumer (backpressure). */
  chunkDone(): Promise<void>;
}

/** Counters the tracker reports. */
export interface TrackerStats {
  invalidEncoding: number;
  cutTokens: number;
  unreadable: number;
  records: number;
}

const CHUNK = 1024 * 1024;
const SIBLING_LIMIT = 200;

/** Reads files for one receiver. */
export class Tracker {
  readonly #cfg: FilelogConfig;
  readonly #log: Logger;
  readonly #out: TrackerOutput;
  readonly #finder: Finder;
  readonly #splitter: Splitter;
  readonly #decoder: TokenDecoder;
  readonly #buf: Uint8Array;
  readonly #files = new Set<TrackedFile>();
  readonly #byPath = new Map<string, TrackedFile>();
  readonly #index = new FingerprintIndex<TrackedFile>();
  /** Open handles in least-recently-read order. */
  readonly #open = new Map<TrackedFile, true>();
  readonly #reported = new Set<string>();
  readonly #retainPolls: number;
  #firstPoll = true;
  #resumed = false;
  #observed = 0n;
  #resource: ValueMap | undefined;
  /** Files read since the last `takeTouched`. */
  readonly touched = new Set<TrackedFile>();
  readonly stats: TrackerStats = { invalidEncoding: 0, cutTokens: 0, unreadable: 0, records: 0 };

  constructor(cfg: FilelogConfig, log: Logger, out: TrackerOutput) {
    this.#cfg = cfg;
    this.#log = log;
    this.#out = out;
    this.#finder = new Finder(cfg.include, cfg.exclude);
    this.#splitter = new Splitter(cfg);
    this.#decoder = new TokenDecoder(cfg);
    this.#buf = new Uint8Array(Math.max(CHUNK, cfg.maxLogSize + 64 * 1024));
    this.#retainPolls = Math.max(3, cfg.pollsToArchive);
    const res = Object.values(cfg.resource);
    if (res.every((t) => t.literal)) {
      this.#resource = {};
      for (const [k, t] of Object.entries(cfg.resource)) {
        this.#resource[k] = t.eval(undefined as never) ?? null;
      }
    }
  }

  /** Every file currently known (for checkpoints). */
  get files(): ReadonlySet<TrackedFile> {
    return this.#files;
  }

  /** Number of open file handles. */
  get openFiles(): number {
    return this.#open.size;
  }

  /** Restores states from a checkpoint: `start_at` then no longer applies. */
  restore(states: readonly TrackedFile[]): void {
    for (const tf of states) {
      tf.attrsFresh = false;
      this.#files.add(tf);
      this.#index.set(tf);
      this.#byPath.set(tf.origPath, tf);
    }
    if (states.length > 0) {
      this.#resumed = true;
      this.#log.info(
        "Resuming from previously known offset(s). 'start_at' setting is not applicable.",
      );
    }
  }

  /** One poll: find, identify, drain lost files, read current ones. */
  async poll(nowMs: number): Promise<void> {
    this.#observed = BigInt(nowMs) * 1_000_000n;
    let paths = this.#finder.find();
    for (const dir of this.#finder.deniedDirs) this.#reportOnce(dir, "directory");
    if (this.#cfg.maxBatches > 0) {
      paths = paths.slice(0, this.#cfg.maxBatches * Math.floor(this.#cfg.maxConcurrentFiles / 2));
    }
    const claimed = new Set<TrackedFile>();
    const toRead: TrackedFile[] = [];
    for (const path of paths) {
      const quick = this.#quickCheck(path, nowMs, claimed);
      if (quick === undefined) continue;
      const tf = quick instanceof TrackedFile ? quick : await this.#identify(path, quick, claimed);
      if (tf !== undefined) toRead.push(tf);
    }
    // Files no longer at a matched path: drain what is left first (ordering across rotation).
    for (const tf of [...this.#files]) {
      if (claimed.has(tf)) {
        tf.lostPolls = 0;
        tf.searched = false;
        continue;
      }
      await this.#drainLost(tf, nowMs, claimed);
    }
    for (const tf of toRead) {
      if (!this.#files.has(tf)) continue;
      await this.#readFile(tf, nowMs, false);
    }
    this.#trimHandles();
    this.#firstPoll = false;
  }

  /**
   * The synchronous part of identification: undefined = skip this path; a TrackedFile =
   * known, unchanged file to read (a partial line may be due); FileInfo = needs `#identify`.
   */
  #quickCheck(
    path: string,
    now: number,
    claimed: Set<TrackedFile>,
  ): TrackedFile | Deno.FileInfo | undefined {
    let st: Deno.FileInfo;
    try {
      st = Deno.statSync(path);
    } catch (err) {
      if (isDenied(err)) this.#reportOnce(path, "file");
      return undefined; // vanished between listing and stat: not an error
    }
    if (!st.isFile) return undefined;
    const mtime = st.mtime?.getTime() ?? 0;
    if (this.#cfg.excludeOlderThanMs > 0 && now - mtime > this.#cfg.excludeOlderThanMs) {
      return undefined;
    }
    if (st.size === 0) return undefined; // empty files are not tracked until they have data
    const known = this.#byPath.get(path);
    if (
      known !== undefined && !claimed.has(known) && known.ino !== undefined &&
      known.ino === st.ino &&
      known.dev === st.dev && st.size === known.lastSize && mtime === known.lastMtime
    ) {
      claimed.add(known);
      // Unchanged: read only to flush a partial line whose time has come.
      return known.pendingSince !== undefined ? known : undefined;
    }
    return st;
  }

  async #identify(
    path: string,
    st: Deno.FileInfo,
    claimed: Set<TrackedFile>,
  ): Promise<TrackedFile | undefined> {
    const known = this.#byPath.get(path);
    if (
      known !== undefined && !claimed.has(known) && known.ino !== undefined &&
      known.ino === st.ino &&
      known.dev === st.dev
    ) {
      const head = await this.#headOf(known, path);
      if (head !== undefined && startsWith(head, known.fp)) {
        this.#claim(known, path, st, head, claimed);
        this.#checkTruncate(known, st.size);
        return known;
      }
      // Rewritten in place (truncated, copytruncate): the old state can no longer use this
      // handle; a copy may still be found by fingerprint.
      known.close();
      this.#open.delete(known);
    }
    let handle: Deno.FsFile;
    try {
      handle = await Deno.open(path, { read: true });
    } catch (err) {
      if (isDenied(err)) this.#reportOnce(path, "file");
      return undefined;
    }
    let head: Uint8Array;
    let gz = false;
    try {
      ({ head, gz } = await this.#readFingerprint(handle, path));
    } catch (err) {
      handle.close();
      this.#log.debug("Cannot read fingerprint", { path, error: err });
      return undefined;
    }
    if (head.length === 0) {
      handle.close();
      return undefined;
    }
    const match = this.#index.find(head, (t) => !claimed.has(t));
    if (match !== undefined) {
      match.close();
      this.#open.delete(match);
      match.handle = handle;
      match.handlePath = path;
      match.gzip = gz;
      this.#open.set(match, true);
      this.#claim(match, path, st, head, claimed);
      this.#checkTruncate(match, st.size);
      return match;
    }
    const dup = this.#index.find(head, (t) => claimed.has(t) && t.fp.length === head.length);
    if (dup !== undefined) {
      // Same content as a file read this poll (a copy): read only one, as upstream.
      handle.close();
      return undefined;
    }
    const startAtEnd = this.#cfg.startAt === "end" && this.#firstPoll && !this.#resumed;
    const size = gz ? 0 : st.size;
    const tf = new TrackedFile(
      head,
      path,
      fileAttributes(this.#cfg, path, st),
      startAtEnd ? size : 0,
    );
    tf.gzip = gz;
    tf.handle = handle;
    tf.handlePath = path;
    this.#open.set(tf, true);
    this.#files.add(tf);
    this.#claim(tf, path, st, head, claimed);
    return tf;
  }

  #claim(
    tf: TrackedFile,
    path: string,
    st: Deno.FileInfo,
    head: Uint8Array,
    claimed: Set<TrackedFile>,
  ): void {
    claimed.add(tf);
    if (tf.path !== path) this.#byPath.delete(tf.path);
    const prev = this.#byPath.get(path);
    if (prev !== undefined && prev !== tf && prev.path === path) prev.path = "";
    this.#byPath.set(path, tf);
    tf.path = path;
    tf.dev = st.dev;
    tf.ino = st.ino ?? undefined;
    tf.lastSize = st.size;
    tf.lastMtime = st.mtime?.getTime() ?? 0;
    if (!tf.attrsFresh && path === tf.origPath) {
      tf.attrs = fileAttributes(this.#cfg, path, st);
      tf.attrsFresh = true;
    }
    if (head.length > tf.fp.length) {
      tf.fp = head.slice(0, this.#cfg.fingerprintSize);
      tf.dirty = true;
    }
    this.#index.set(tf);
  }

  #checkTruncate(tf: TrackedFile, size: number): void {
    if (tf.gzip || size >= tf.readOffset) return;
    switch (this.#cfg.onTruncate) {
      case "ignore":
        return; // keep the offset: nothing is read until the file grows past it
      case "read_whole_file":
        tf.readOffset = tf.ackOffset = 0;
        tf.recordNum = tf.ackRecordNum = 0;
        break;
      case "read_new":
        tf.readOffset = tf.ackOffset = size;
        break;
    }
    tf.pendingSince = undefined;
    tf.skipping = false;
    tf.dirty = true;
  }

  async #readFingerprint(
    handle: Deno.FsFile,
    path: string,
  ): Promise<{ head: Uint8Array; gz: boolean }> {
    const size = this.#cfg.fingerprintSize;
    const head = await readHead(handle, size);
    if (this.#wantsGzip(path, head)) {
      const all = await readAll(handle);
      return { head: gunzip(all).slice(0, size), gz: true };
    }
    return { head, gz: false };
  }

  #wantsGzip(path: string, head: Uint8Array): boolean {
    const c = this.#cfg.compression;
    if (c === "gzip") return isGzip(head) || path.endsWith(".gz");
    return c === "auto" && isGzip(head);
  }

  /** The current head of a known file, through its handle (opened at `path` if needed). */
  async #headOf(tf: TrackedFile, path: string): Promise<Uint8Array | undefined> {
    try {
      if (tf.handle === undefined) {
        tf.handle = await Deno.open(path, { read: true });
        tf.handlePath = path;
      }
      this.#open.delete(tf);
      this.#open.set(tf, true);
      return (await this.#readFingerprint(tf.handle, path)).head;
    } catch (err) {
      if (isDenied(err)) this.#reportOnce(path, "file");
      tf.close();
      this.#open.delete(tf);
      return undefined;
    }
  }

  async #drainLost(tf: TrackedFile, now: number, claimed: Set<TrackedFile>): Promise<void> {
    tf.lostPolls++;
    let readable = false;
    if (tf.handle !== undefined) {
      const head = await readHead(tf.handle, this.#cfg.fingerprintSize).catch(() =>
        new Uint8Array()
      );
      const content = tf.gzip ? await gzipHead(tf.handle, this.#cfg.fingerprintSize) : head;
      readable = startsWith(content, tf.fp);
      if (!readable) {
        tf.close();
        this.#open.delete(tf);
      }
    }
    if (!readable && !tf.searched) {
      tf.searched = true;
      readable = await this.#findSibling(tf, claimed);
    }
    if (readable) {
      const before = tf.readOffset;
      await this.#readFile(tf, now, false);
      if (tf.readOffset !== before) tf.lostPolls = 1; // still being written: keep draining
    }
    if (tf.lostPolls > this.#retainPolls) {
      if (readable || tf.handle !== undefined) await this.#readFile(tf, now, true);
      this.#forget(tf);
    }
  }

  /** Looks for a file's content among its directory's files (rotated names, .gz). */
  async #findSibling(tf: TrackedFile, claimed: Set<TrackedFile>): Promise<boolean> {
    const dir = dirName(tf.path || tf.origPath);
    const claimedPaths = new Set([...claimed].map((t) => t.path));
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
        handle = await Deno.open(c.path, { read: true });
        const raw = await readHead(handle, this.#cfg.fingerprintSize);
        const gz = isGzip(raw);
        const head = gz ? await gzipHead(handle, this.#cfg.fingerprintSize) : raw;
        if (startsWith(head, tf.fp)) {
          tf.close();
          tf.handle = handle;
          tf.handlePath = c.path;
          tf.gzip = gz;
          this.#open.set(tf, true);
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

  #forget(tf: TrackedFile): void {
    tf.close();
    this.#open.delete(tf);
    this.#files.delete(tf);
    this.#index.delete(tf);
    if (this.#byPath.get(tf.path) === tf) this.#byPath.delete(tf.path);
    if (this.#byPath.get(tf.origPath) === tf) this.#byPath.delete(tf.origPath);
  }

  /** Deletes a file after it was read and acknowledged (delete_after_read). */
  async deleteIfDone(tf: TrackedFile): Promise<void> {
    if (tf.lostPolls > 0 || tf.ackOffset < tf.lastSize || tf.pendingSince !== undefined) return;
    try {
      await Deno.remove(tf.path);
    } catch (err) {
      this.#log.error("Could not delete file after reading", { path: tf.path, error: err });
      return;
    }
    this.#forget(tf);
  }

  /** Reads a file from its offset to the end, handing tokens on; `final` flushes a partial line. */
  async #readFile(tf: TrackedFile, now: number, final: boolean): Promise<void> {
    if (tf.handle === undefined) {
      try {
        tf.handle = await Deno.open(tf.path, { read: true });
        tf.handlePath = tf.path;
        this.#open.set(tf, true);
      } catch (err) {
        if (isDenied(err)) this.#reportOnce(tf.path, "file");
        return;
      }
    }
    this.#open.delete(tf);
    this.#open.set(tf, true);
    try {
      if (tf.gzip) await this.#readGzip(tf, now, final);
      else await this.#readPlain(tf, now, final);
    } catch (err) {
      this.#log.warn("Read failed; will retry next poll", { path: tf.path, error: err });
    }
  }

  async #readPlain(tf: TrackedFile, now: number, final: boolean): Promise<void> {
    const h = tf.handle!;
    const buf = this.#buf;
    let pos = tf.readOffset;
    let filled = 0;
    await h.seek(pos, Deno.SeekMode.Start);
    for (;;) {
      let eof = false;
      while (filled < buf.length) {
        const r = await h.read(buf.subarray(filled));
        if (r === null || r === 0) {
          eof = true;
          break;
        }
        filled += r;
      }
      if (filled === 0) break;
      const used = this.#split(tf, buf, filled, pos, false);
      if (used > 0) {
        buf.copyWithin(0, used, filled);
        pos += used;
        filled -= used;
        this.touched.add(tf);
        await this.#out.chunkDone();
      }
      if (eof || used === 0) break;
    }
    this.#flushState(tf, buf, filled, pos, now, final);
  }

  async #readGzip(tf: TrackedFile, now: number, final: boolean): Promise<void> {
    const content = gunzip(await readAll(tf.handle!));
    if (content.length <= tf.readOffset) {
      this.#flushState(tf, content, 0, tf.readOffset, now, final);
      return;
    }
    const data = content.subarray(tf.readOffset);
    const pos = tf.readOffset;
    const used = this.#split(tf, data, data.length, pos, false);
    if (used > 0) {
      this.touched.add(tf);
      await this.#out.chunkDone();
    }
    this.#flushState(tf, data.subarray(used), data.length - used, pos + used, now, final);
  }

  /** Decides whether a partial token at EOF is emitted now (force_flush_period). */
  #flushState(
    tf: TrackedFile,
    buf: Uint8Array,
    filled: number,
    pos: number,
    now: number,
    final: boolean,
  ): void {
    if (filled === 0) {
      tf.pendingSince = undefined;
      return;
    }
    const size = pos + filled;
    const period = this.#cfg.forceFlushPeriodMs;
    const due = tf.pendingSince !== undefined && tf.pendingOffset === pos &&
      tf.pendingSize === size &&
      period > 0 && now - tf.pendingSince >= period;
    if (final || due) {
      this.#split(tf, buf, filled, pos, true);
      this.touched.add(tf);
      tf.pendingSince = undefined;
      // chunkDone is awaited by the next read or the end of the poll.
      return;
    }
    if (tf.pendingOffset !== pos || tf.pendingSize !== size || tf.pendingSince === undefined) {
      tf.pendingOffset = pos;
      tf.pendingSize = size;
      tf.pendingSince = now;
    }
  }

  /** Splits buf[0, filled) (file position `base`) into entries; returns bytes used. */
  #split(tf: TrackedFile, buf: Uint8Array, filled: number, base: number, flush: boolean): number {
    let tokStart = 0;
    const truncate = this.#cfg.maxLogSizeBehavior === "truncate";
    const used = this.#splitter.split(buf, 0, filled, flush, (s, e, next, cut) => {
      const start = base + tokStart;
      tokStart = next;
      const recordNum = tf.recordNum++;
      tf.readOffset = base + next;
      if (tf.skipping) {
        // Rest of a truncated line: drop through its newline.
        if (!cut) tf.skipping = false;
        return;
      }
      if (cut) {
        this.stats.cutTokens++;
        if (truncate) tf.skipping = true;
      }
      if (e <= s) return; // empty lines are not records (as upstream)
      this.#emitToken(tf, buf, s, e, start, recordNum);
    });
    return used;
  }

  #emitToken(
    tf: TrackedFile,
    buf: Uint8Array,
    s: number,
    e: number,
    start: number,
    recordNum: number,
  ): void {
    const d = this.#decoder.decode(buf, s, e);
    if (d.replaced) this.stats.invalidEncoding++;
    const attrs: ValueMap = { ...tf.attrs };
    const cfg = this.#cfg;
    if (cfg.includeFileRecordNumber) attrs["log.file.record_number"] = BigInt(recordNum + 1);
    if (cfg.includeFileRecordOffset) attrs["log.file.record_offset"] = BigInt(start);
    const entry: Entry = {
      body: d.body,
      attributes: attrs,
      resource: this.#resource ?? {},
      resourceShared: this.#resource !== undefined,
      timestamp: 0n,
      observed: this.#observed,
      severity: 0,
      severityText: "",
      src: { fileId: tf.id, start, recordNum },
    };
    for (const k in cfg.attributes) attrs[k] = cfg.attributes[k]!.eval(entry) ?? null;
    if (this.#resource === undefined) {
      for (const k in cfg.resource) entry.resource[k] = cfg.resource[k]!.eval(entry) ?? null;
    }
    this.stats.records++;
    this.#out.entry(entry);
  }

  #trimHandles(): void {
    const max = this.#cfg.maxConcurrentFiles;
    if (this.#open.size <= max) return;
    for (const tf of this.#open.keys()) {
      if (this.#open.size <= max) break;
      if (tf.lostPolls > 0) continue; // lost files need their handle to drain
      tf.close();
      this.#open.delete(tf);
    }
  }

  #reportOnce(path: string, what: string): void {
    if (this.#reported.has(path)) return;
    this.#reported.add(path);
    this.stats.unreadable++;
    this.#log.error(`Cannot read ${what}: permission denied; it is skipped until readable`, {
      path,
    });
  }

  /** Reads every remaining partial line as final and closes all handles. */
  async close(): Promise<void> {
    for (const tf of this.#files) tf.close();
    this.#open.clear();
    await Promise.resolve();
  }
}

async function readAll(handle: Deno.FsFile): Promise<Uint8Array> {
  await handle.seek(0, Deno.SeekMode.Start);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const buf = new Uint8Array(256 * 1024);
    const n = await handle.read(buf);
    if (n === null || n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

async function gzipHead(handle: Deno.FsFile, size: number): Promise<Uint8Array> {
  try {
    return gunzip(await readAll(handle)).slice(0, size);
  } catch {
    return new Uint8Array();
  }
}

/** True for EACCES and for a read the Deno permission sandbox refused. */
function isDenied(err: unknown): boolean {
  return err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable;
}
