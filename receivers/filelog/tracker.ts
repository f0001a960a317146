/**
 * The poll cycle: find files, identify each by fingerprint (a cheap stat short-cut for
 * files unchanged at the same inode), drain files that left their path (through the held
 * handle, or a sibling found by fingerprint after a restart or copytruncate), then read
 * current files to their end and hand every token to the operator chain.
 *
 * While change notifications are trusted (see watch.ts) a poll looks only at the paths
 * they named, new paths, paths reached through links, and files with data still to read;
 * every other known file counts as unchanged. Small reads use synchronous file ops (~1µs
 * against ~50µs for the async ops' thread hand-off), which decides the cost per changed
 * file on a busy node.
 *
 * @module
 */

import type { Logger } from "../../core/telemetry/logger.ts";
import type { FilelogConfig } from "./config.ts";
import { type Entry, newEntry, type ValueMap } from "../../pkg/stanza/entry.ts";
import { baseName, dirName, fileAttributes } from "./file_attrs.ts";
import { FingerprintIndex, isGzip, readHead, startsWith } from "./fingerprint.ts";
import { GunzipReader, gzipHead as inflateHead } from "./gzip_stream.ts";
import { Finder } from "./glob.ts";
import { Pipeline } from "../../pkg/stanza/operator/registry.ts";
import { orderPaths } from "./ordering.ts";
import { Splitter, TokenDecoder } from "./split.ts";
import { TrackedFile } from "./tracked_file.ts";
import { ChangeWatcher, type Hints, type PollPlan, SWEEP_MS, type WatchOptions } from "./watch.ts";

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

/** Tuning of the tracker (tests and the bench; not config keys). */
export interface TrackerOptions extends Partial<Omit<WatchOptions, "pollIntervalMs">> {
  /** False: never use change notifications (poll everything every time). */
  readonly watch?: boolean;
  /** Once aborted (shutdown), polls and reads stop at the next chunk boundary. */
  readonly signal?: AbortSignal;
  /** Bytes a poll reads of one plain file at most (default {@linkcode READ_BUDGET}). */
  readonly readBudget?: number;
}

/** What the last poll did (tests). */
export interface PollStats {
  /** Whether it stat'ed every matched path. */
  sweep: boolean;
  /** Paths it stat'ed. */
  checked: number;
}

const CHUNK = 1024 * 1024;
/**
 * Bytes read before the tokens are handed on and the consumer may be waited for: a batch
 * holds at most about this much beyond BATCH_RECORDS, which bounds what a crash re-sends.
 */
export const READ_CHUNK = 256 * 1024;
const EMPTY: ReadonlySet<string> = new Set();
const HEADER_DECODER = new TextDecoder();
/** Largest expected read done with synchronous ops. */
const SYNC_READ_MAX = 256 * 1024;
const SIBLING_LIMIT = 200;
/**
 * Bytes one poll reads of one current file at most. A backlog is then read in rounds, every
 * file getting its share in turn, and the receiver polls again at once while one is left.
 */
export const READ_BUDGET = 4 * 1024 * 1024;

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
  readonly #signal: AbortSignal | undefined;
  readonly #readBudget: number;
  /** Paths that could not be opened for lack of file descriptors: checked again next poll. */
  readonly #retryOpen = new Set<string>();
  /** Of those, the ones seen in the first poll: `start_at: end` still applies to them. */
  readonly #startAtEndPaths = new Set<string>();
  #fdWarned = false;
  #firstPoll = true;
  #resumed = false;
  readonly #watch: ChangeWatcher | undefined;
  #lastPaths: string[] | undefined;
  #orderedFrom: string[] | undefined;
  readonly #headerPipeline: Pipeline | undefined;
  #headerOut: Entry | undefined;
  #ordered: string[] = [];
  #pathSet = new Set<string>();
  #listingChanged = true;
  #pollCount = 0;
  #observed = 0n;
  #resource: ValueMap | undefined;
  /** Files read since the last `takeTouched`. */
  readonly touched = new Set<TrackedFile>();
  readonly stats: TrackerStats = { invalidEncoding: 0, cutTokens: 0, unreadable: 0, records: 0 };
  /** What the last poll did. */
  readonly lastPoll: PollStats = { sweep: true, checked: 0 };
  /** True when the last poll left data unread in a file (its read budget ran out). */
  backlog = false;

  /**
   * `options.watch: false` never uses change notifications; `options.sweepMs` is the longest
   * time between full sweeps while they are used.
   */
  constructor(
    cfg: FilelogConfig,
    log: Logger,
    out: TrackerOutput,
    options: TrackerOptions = {},
  ) {
    this.#cfg = cfg;
    this.#log = log;
    this.#out = out;
    this.#finder = new Finder(cfg.include, cfg.exclude);
    this.#signal = options.signal;
    this.#readBudget = options.readBudget ?? READ_BUDGET;
    const roots = this.#finder.watchRoots();
    // Batching and mtime ordering decide from every file's stat on every poll.
    const statsAll = cfg.maxBatches > 0 || cfg.ordering?.usesMtime === true;
    if (options.watch !== false && roots !== undefined && !statsAll) {
      this.#watch = new ChangeWatcher(roots, log, {
        ...options,
        sweepMs: options.sweepMs ?? SWEEP_MS,
        pollIntervalMs: cfg.pollIntervalMs,
      });
    }
    this.#splitter = new Splitter(cfg);
    if (cfg.header !== undefined) {
      this.#headerPipeline = new Pipeline(
        cfg.header.metadataOperators,
        { logger: log, countError: () => {} },
        (e) => this.#headerOut = e,
      );
    }
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

  /** True once shutdown aborted reading. */
  get #stopped(): boolean {
    return this.#signal?.aborted === true;
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

  /**
   * One poll: find, identify, drain lost files, read current ones. With `sweep` (tests, and
   * whenever change notifications are not trusted) every matched path is stat'ed; otherwise
   * only the paths the notifications named, plus those that are always checked.
   */
  async poll(nowMs: number, sweep = true): Promise<void> {
    this.#observed = BigInt(nowMs) * 1_000_000n;
    this.#fdWarned = false;
    this.backlog = false;
    const plan: PollPlan = sweep || this.#firstPoll || this.#watch === undefined
      ? { sweep: true, hints: undefined, checkMisses: false }
      : this.#watch.begin(nowMs, this.#finder.dirCount);
    const hints = plan.hints;
    const t0 = performance.now();
    if (hints !== undefined) {
      for (const p of hints.paths) this.#finder.invalidate(p);
      for (const d of hints.dirs) this.#finder.invalidate(d);
    }
    let paths = this.#finder.find(!plan.sweep);
    let cost = performance.now() - t0;
    for (const dir of this.#finder.deniedDirs) this.#reportOnce(dir, "directory");
    const grace = this.#watch?.missGraceMs ?? 0;
    let missed: string | undefined;
    if (plan.sweep && plan.checkMisses) {
      missed = this.#finder.unannounced.find((c) => nowMs - c.mtimeMs > grace)?.dir;
    }
    let checked = 0;
    const ordering = this.#cfg.ordering;
    if (ordering !== undefined) {
      if (paths !== this.#orderedFrom || ordering.usesMtime) {
        this.#orderedFrom = paths;
        const ordered = orderPaths(paths, ordering, nowMs, mtimeOf);
        const last = this.#ordered;
        // Keep the previous array while the selection is the same (cheap change detection).
        if (last.length !== ordered.length || ordered.some((p, i) => p !== last[i])) {
          this.#ordered = ordered;
        }
      }
      paths = this.#ordered;
    }
    if (this.#cfg.maxBatches > 0) {
      paths = paths.slice(0, this.#cfg.maxBatches * Math.floor(this.#cfg.maxConcurrentFiles / 2));
    }
    const fresh = this.#newPaths(paths);
    const linked = this.#finder.linked;
    const claimed = new Claims(++this.#pollCount);
    const toCheck = plan.sweep ? paths : this.#hintedChecks(plan.hints, fresh, linked, claimed);
    const toRead: TrackedFile[] = [];
    for (const path of toCheck) {
      const t1 = performance.now();
      checked++;
      const quick = this.#quickCheck(path, nowMs, claimed);
      if (
        plan.sweep && plan.checkMisses && missed === undefined && quick !== undefined &&
        !(quick instanceof TrackedFile) && !hints?.paths.has(path) && !linked.has(path) &&
        this.#changedUnannounced(path, quick, nowMs, grace)
      ) {
        missed = path;
      }
      cost += performance.now() - t1;
      if (quick === undefined) continue;
      const tf = quick instanceof TrackedFile ? quick : await this.#identify(path, quick, claimed);
      if (tf !== undefined) toRead.push(tf);
      this.#trimHandles(); // max_concurrent_files holds during the poll too
    }
    if (plan.sweep) this.#watch?.endSweep(nowMs, cost, missed, plan.checkMisses);
    this.lastPoll.sweep = plan.sweep;
    this.lastPoll.checked = checked;
    // Files no longer at a matched path: drain what is left first (ordering across rotation).
    for (const tf of [...this.#files]) {
      if (this.#stopped) break;
      if (claimed.has(tf)) {
        tf.lostPolls = 0;
        tf.searched = false;
        continue;
      }
      await this.#drainLost(tf, nowMs, claimed);
    }
    for (const tf of toRead) {
      if (this.#stopped) break;
      if (!this.#files.has(tf)) continue;
      await this.#readFile(tf, nowMs, false, this.#readBudget);
      this.#trimHandles();
    }
    this.#firstPoll = false;
  }

  /**
   * For a poll that trusts notifications: claims every known file that nothing announced a
   * change for, and returns the paths that need a look: named by an event, new in the
   * listing, reached through a link, or with data still to read.
   */
  #hintedChecks(
    hints: Hints,
    fresh: ReadonlySet<string>,
    linked: ReadonlySet<string>,
    claimed: Claims,
  ): Set<string> {
    const listed = this.#pathSet;
    const check = new Set<string>();
    for (const tf of this.#files) {
      const p = tf.path;
      if (p === "" || (this.#listingChanged && !listed.has(p))) continue; // left: lost
      if (
        tf.lostPolls > 0 || tf.ino === undefined || hints.paths.has(p) || linked.has(p) ||
        tf.pendingSince !== undefined || unreadData(tf)
      ) {
        if (tf.lostPolls === 0 || listed.has(p)) check.add(p);
        continue;
      }
      claimed.add(tf);
    }
    for (const p of hints.paths) if (listed.has(p)) check.add(p);
    for (const p of fresh) check.add(p);
    for (const p of linked) check.add(p);
    for (const p of this.#retryOpen) if (listed.has(p)) check.add(p);
    return check;
  }

  /** True when a known, stat-verified file changed long enough ago that its event is late. */
  #changedUnannounced(path: string, st: Deno.FileInfo, now: number, grace: number): boolean {
    const known = this.#byPath.get(path);
    if (known === undefined || known.path !== path || known.ino === undefined) return false;
    const changed = Math.max(st.mtime?.getTime() ?? 0, st.ctime?.getTime() ?? 0);
    return now - changed > grace;
  }

  /** Paths in `paths` that the previous poll's result did not have. */
  #newPaths(paths: string[]): ReadonlySet<string> {
    this.#listingChanged = paths !== this.#lastPaths;
    if (!this.#listingChanged) return EMPTY;
    const fresh = new Set<string>();
    for (const p of paths) if (!this.#pathSet.has(p)) fresh.add(p);
    this.#lastPaths = paths;
    this.#pathSet = new Set(paths);
    return fresh;
  }

  /** Whether change notifications are trusted between sweeps right now (tests, logs). */
  get watching(): boolean {
    return this.#watch?.active ?? false;
  }

  /** Why change notifications are not in use ("" while they are). */
  get watchReason(): string {
    return this.#watch?.reason ?? "disabled";
  }

  /**
   * The synchronous part of identification: undefined = skip this path; a TrackedFile =
   * known, unchanged file to read (a partial line may be due); FileInfo = needs `#identify`.
   */
  #quickCheck(
    path: string,
    now: number,
    claimed: Claims,
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
      // Skipped while old, but still the same file at its path: keep its position so a
      // later write is read from there, not from the start.
      const known = this.#byPath.get(path);
      if (
        known !== undefined && !claimed.has(known) && known.path === path &&
        known.ino !== undefined && known.ino === st.ino && known.dev === st.dev
      ) {
        claimed.add(known);
      }
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
      // Unchanged: read only to flush a partial line whose time has come, or data a previous
      // read left (it failed, or acquire_fs_lock could not take the lock).
      return known.pendingSince !== undefined || unreadData(known) ? known : undefined;
    }
    return st;
  }

  async #identify(
    path: string,
    st: Deno.FileInfo,
    claimed: Claims,
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
    const handle = this.#openFile(path);
    if (handle === undefined) return undefined;
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
    const startAtEnd = this.#cfg.startAt === "end" && !this.#resumed &&
      (this.#firstPoll || this.#startAtEndPaths.delete(path));
    const size = gz ? 0 : st.size;
    const tf = new TrackedFile(
      head,
      path,
      fileAttributes(this.#cfg, path, st),
      startAtEnd ? size : 0,
    );
    tf.gzip = gz;
    tf.headerDone = this.#cfg.header === undefined;
    tf.handle = handle;
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
    claimed: Claims,
  ): void {
    claimed.add(tf);
    if (this.#retryOpen.size > 0) this.#retryOpen.delete(path);
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
      tf.attrs = { ...fileAttributes(this.#cfg, path, st), ...tf.headerAttrs };
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
    const head = readHead(handle, size);
    if (this.#wantsGzip(path, head)) {
      return { head: await inflateHead(handle, size), gz: true };
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
        const h = this.#openFile(path);
        if (h === undefined) return undefined;
        tf.handle = h;
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

  async #drainLost(tf: TrackedFile, now: number, claimed: Claims): Promise<void> {
    tf.lostPolls++;
    let readable = false;
    if (tf.handle !== undefined) {
      let head: Uint8Array;
      try {
        head = readHead(tf.handle, this.#cfg.fingerprintSize);
      } catch {
        head = new Uint8Array();
      }
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
    if (this.#stopped) return; // never forget a file whose reading was cut short
    if (tf.lostPolls > this.#retainPolls) {
      if (readable || tf.handle !== undefined) await this.#readFile(tf, now, true);
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
        const raw = readHead(handle, this.#cfg.fingerprintSize);
        const gz = isGzip(raw);
        const head = gz ? await gzipHead(handle, this.#cfg.fingerprintSize) : raw;
        if (startsWith(head, tf.fp)) {
          tf.close();
          tf.handle = handle;
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

  /**
   * Reads a file from its offset to the end (a plain file: at most about `budget` bytes),
   * handing tokens on; `final` flushes a partial line.
   */
  async #readFile(tf: TrackedFile, now: number, final: boolean, budget = Infinity): Promise<void> {
    if (tf.handle === undefined) {
      // Closed to respect max_concurrent_files: reopen, if the path still holds this content.
      const h = this.#openFile(tf.path);
      if (h === undefined) return;
      let head: Uint8Array;
      try {
        head = tf.gzip ? await gzipHead(h, tf.fp.length) : readHead(h, tf.fp.length);
      } catch {
        head = new Uint8Array();
      }
      if (!startsWith(head, tf.fp)) {
        h.close();
        return;
      }
      tf.handle = h;
      this.#open.set(tf, true);
    }
    this.#open.delete(tf);
    this.#open.set(tf, true);
    const handle = tf.handle;
    if (this.#cfg.acquireFsLock && !this.#tryLock(tf, handle)) return;
    try {
      if (tf.gzip) await this.#readGzip(tf, now, final);
      else await this.#readPlain(tf, now, final, budget);
    } catch (err) {
      this.#log.warn("Read failed; will retry next poll", { path: tf.path, error: err });
      tf.lastSize = -1; // not "unchanged" next poll: read again from readOffset
    } finally {
      if (this.#cfg.acquireFsLock) {
        try {
          handle.unlockSync();
        } catch {
          // Closed meanwhile: the lock went with the handle.
        }
      }
    }
  }

  /** acquire_fs_lock: a shared advisory lock for the read, as upstream; false = skip for now. */
  #tryLock(tf: TrackedFile, handle: Deno.FsFile): boolean {
    try {
      if (handle.tryLockSync(false)) return true;
      this.#log.debug("File is locked by another process; reading it later", { path: tf.path });
    } catch (err) {
      this.#log.error("Failed to lock", { path: tf.path, error: err });
    }
    return false;
  }

  async #readPlain(tf: TrackedFile, now: number, final: boolean, budget: number): Promise<void> {
    const h = tf.handle!;
    const pos = tf.readOffset;
    // Small increments (the steady state) are read synchronously: ~1µs per op against ~50µs
    // for the async op. A backlog goes through the async op so the event loop keeps turning.
    const sync = tf.lastSize >= 0 && tf.lastSize - pos <= SYNC_READ_MAX;
    h.seekSync(pos, Deno.SeekMode.Start);
    await this.#readChunks(
      tf,
      now,
      final,
      pos,
      sync ? (b) => h.readSync(b) ?? 0 : async (b) => (await h.read(b)) ?? 0,
      budget,
    );
  }

  /**
   * The chunk loop shared by plain and gzip files: fills the buffer from `read` (content
   * position `pos` onwards), hands complete tokens on, and waits for the consumer after
   * each chunk; stops after the chunk that used up `budget` (the rest waits for the next poll).
   */
  async #readChunks(
    tf: TrackedFile,
    now: number,
    final: boolean,
    start: number,
    read: (into: Uint8Array) => number | Promise<number>,
    budget = Infinity,
  ): Promise<void> {
    const buf = this.#buf;
    let pos = start;
    let filled = 0;
    for (;;) {
      let eof = false;
      const want = Math.min(buf.length, filled + READ_CHUNK);
      while (filled < want) {
        const got = read(buf.subarray(filled, want));
        const r = typeof got === "number" ? got : await got;
        if (r === 0) {
          eof = true;
          break;
        }
        filled += r;
      }
      if (filled === 0) break;
      let head = 0;
      if (!tf.headerDone) {
        head = this.#consumeHeader(tf, buf, filled, pos);
        // A line longer than the buffer is not a header line.
        if (!tf.headerDone && head === 0 && filled === buf.length) tf.headerDone = true;
        if (!tf.headerDone) {
          // Only header lines so far: wait for the rest (never force-flushed, as upstream).
          buf.copyWithin(0, head, filled);
          pos += head;
          filled -= head;
          if (head > 0) this.touched.add(tf);
          if (eof) return;
          continue;
        }
      }
      const used = head + this.#split(tf, buf.subarray(head), filled - head, pos + head, false);
      if (used > 0) {
        buf.copyWithin(0, used, filled);
        pos += used;
        filled -= used;
        this.touched.add(tf);
        await this.#out.chunkDone();
        // Shutting down: stop here; the position is after the last token handed on.
        if (this.#stopped) return;
        if (pos - start >= budget && !eof) {
          this.backlog = true;
          return;
        }
      }
      // A token longer than what was read so far: read more (a full buffer always holds one).
      if (eof || (used === 0 && filled === buf.length)) break;
    }
    this.#flushState(tf, buf, filled, pos, now, final);
  }

  /**
   * `header`: feeds the complete lines at the start of buf[0, filled) (file position
   * `base`) that match header.pattern to the metadata pipeline, keeping the attributes it
   * sets; the first other line ends the header. Returns the bytes used.
   */
  #consumeHeader(tf: TrackedFile, buf: Uint8Array, filled: number, base: number): number {
    const pattern = this.#cfg.header!.pattern;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0 || nl >= filled) return start;
      let end = nl;
      if (end > start && buf[end - 1] === 0x0d) end--;
      const line = HEADER_DECODER.decode(buf.subarray(start, end));
      if (!pattern.test(line)) {
        tf.headerDone = true;
        tf.dirty = true;
        return start;
      }
      this.#headerOut = undefined;
      this.#headerPipeline!.process(newEntry(line, this.#observed));
      const out = this.#headerOut as Entry | undefined;
      if (out !== undefined) {
        tf.headerAttrs ??= {};
        for (const [k, v] of Object.entries(out.attributes)) tf.attrs[k] = tf.headerAttrs[k] = v;
      }
      tf.dirty = true;
      start = nl + 1;
      tf.readOffset = base + start;
    }
  }

  /** Streams the decompressed content through the chunk loop from readOffset. */
  async #readGzip(tf: TrackedFile, now: number, final: boolean): Promise<void> {
    const reader = new GunzipReader(tf.handle!);
    try {
      const pos = tf.readOffset;
      if (await reader.skip(pos) < pos) {
        // Shorter than what was read already (still being written): nothing new yet.
        this.#flushState(tf, this.#buf, 0, pos, now, final);
        return;
      }
      await this.#readChunks(tf, now, final, pos, (b) => reader.read(b));
    } finally {
      reader.close();
    }
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
      const recordNum = tf.recordNum;
      if (tf.skipping) {
        // Rest of a truncated line: drop through its newline.
        if (!cut) tf.skipping = false;
      } else {
        // Emit first: if it throws, the position stays before this token, which the next
        // read starts from (nothing is skipped).
        if (e > s) this.#emitToken(tf, buf, s, e, start, recordNum); // empty lines are not records
        if (cut) {
          this.stats.cutTokens++;
          if (truncate) tf.skipping = true;
        }
      }
      tf.recordNum = recordNum + 1;
      tf.readOffset = base + next;
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
      src: { sourceId: tf.id, seq: start, position: recordNum },
    };
    for (const k in cfg.attributes) attrs[k] = cfg.attributes[k]!.eval(entry) ?? null;
    if (this.#resource === undefined) {
      for (const k in cfg.resource) entry.resource[k] = cfg.resource[k]!.eval(entry) ?? null;
    }
    this.stats.records++;
    this.#out.entry(entry);
  }

  /**
   * Opens a file for reading; undefined when it cannot be. Too many open files
   * (EMFILE/ENFILE) is logged once per poll; idle handles are closed and the open is tried
   * once more, then the path is left for the next poll.
   */
  #openFile(path: string): Deno.FsFile | undefined {
    this.#trimHandles(this.#cfg.maxConcurrentFiles - 1); // room for this one
    try {
      return Deno.openSync(path, { read: true });
    } catch (err) {
      if (!isTooManyOpen(err)) {
        if (isDenied(err)) this.#reportOnce(path, "file");
        return undefined;
      }
      if (!this.#fdWarned) {
        this.#fdWarned = true;
        this.#log.error(
          "Too many open files; closing idle files and retrying the rest next poll. " +
            "Lower max_concurrent_files or raise the open-file limit (ulimit -n)",
          { path, max_concurrent_files: this.#cfg.maxConcurrentFiles, error: err },
        );
      }
    }
    this.#shedHandles();
    try {
      return Deno.openSync(path, { read: true });
    } catch {
      this.#retryOpen.add(path);
      if (this.#firstPoll) this.#startAtEndPaths.add(path);
      return undefined;
    }
  }

  /** Closes the least recently read half of the handles (lost files keep theirs). */
  #shedHandles(): void {
    let n = Math.max(1, Math.floor(this.#open.size / 2));
    for (const tf of [...this.#open.keys()]) {
      if (n <= 0) break;
      if (tf.lostPolls > 0) continue;
      tf.close();
      this.#open.delete(tf);
      n--;
    }
  }

  /** Closes the least recently read handles above `max` (lost files keep theirs). */
  #trimHandles(max = this.#cfg.maxConcurrentFiles): void {
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

  /** Stops watching for changes and closes every handle. */
  async close(): Promise<void> {
    await this.#watch?.close();
    for (const tf of this.#files) tf.close();
    this.#open.clear();
  }
}

async function gzipHead(handle: Deno.FsFile, size: number): Promise<Uint8Array> {
  try {
    return await inflateHead(handle, size);
  } catch {
    return new Uint8Array();
  }
}

function mtimeOf(path: string): number | undefined {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  } catch {
    return undefined;
  }
}

/** The files found at a matched path during one poll: a stamp on each file, not a set. */
class Claims {
  readonly #poll: number;
  constructor(poll: number) {
    this.#poll = poll;
  }
  has(tf: TrackedFile): boolean {
    return tf.claimedIn === this.#poll;
  }
  add(tf: TrackedFile): void {
    tf.claimedIn = this.#poll;
  }
}

/** True when a plain file has bytes past the read position as of its last stat. */
function unreadData(tf: TrackedFile): boolean {
  return !tf.gzip && tf.lastSize >= 0 && tf.readOffset < tf.lastSize;
}

/** True when the process or system is out of file descriptors. */
function isTooManyOpen(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}

/** True for EACCES and for a read the Deno permission sandbox refused. */
function isDenied(err: unknown): boolean {
  return err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable;
}
