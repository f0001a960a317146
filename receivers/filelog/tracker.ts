/**
 * The poll cycle: find files, identify each by fingerprint (a cheap stat short-cut for
 * files unchanged at the same inode), drain files that left their path (lost_files.ts),
 * then read current files (reader.ts; at most a budget of each per poll). Open handles
 * are kept within max_concurrent_files by handles.ts.
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
import { fileAttributes } from "./file_attrs.ts";
import { FingerprintIndex, isGzip, readHead, startsWith } from "./fingerprint.ts";
import { Finder } from "./glob.ts";
import { gzipHead } from "./gzip_stream.ts";
import { Handles, isDenied } from "./handles.ts";
import { LostFiles } from "./lost_files.ts";
import { orderPaths } from "./ordering.ts";
import { FileReader, type TrackerOutput, type TrackerStats, unreadData } from "./reader.ts";
import { Claims, TrackedFile } from "./tracked_file.ts";
import { ChangeWatcher, type Hints, type PollPlan, SWEEP_MS, type WatchOptions } from "./watch.ts";

export type { TrackerOutput, TrackerStats } from "./reader.ts";

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

const EMPTY: ReadonlySet<string> = new Set();
/**
 * Bytes one poll reads of one current file at most. A backlog is then read in rounds, every
 * file getting its share in turn, and the receiver polls again at once while one is left.
 */
export const READ_BUDGET = 4 * 1024 * 1024;

/** Reads files for one receiver. */
export class Tracker {
  readonly #cfg: FilelogConfig;
  readonly #log: Logger;
  readonly #finder: Finder;
  readonly #reader: FileReader;
  readonly #handles: Handles;
  readonly #lost: LostFiles;
  readonly #files = new Set<TrackedFile>();
  readonly #byPath = new Map<string, TrackedFile>();
  readonly #index = new FingerprintIndex<TrackedFile>();
  readonly #reported = new Set<string>();
  readonly #signal: AbortSignal | undefined;
  readonly #readBudget: number;
  /** Paths not opened for lack of descriptors in the first poll: `start_at: end` applies. */
  readonly #startAtEndPaths = new Set<string>();
  #firstPoll = true;
  #resumed = false;
  readonly #watch: ChangeWatcher | undefined;
  #lastPaths: string[] | undefined;
  #orderedFrom: string[] | undefined;
  #ordered: string[] = [];
  #pathSet = new Set<string>();
  #listingChanged = true;
  #pollCount = 0;
  /**
   * The last poll trusted notifications and found nothing to check (no pending partial
   * line, unread data, lost file, link or retry): while no event arrives, polls do nothing.
   */
  #quiet = false;
  /** What the last poll did. */
  readonly lastPoll: PollStats = { sweep: true, checked: 0 };

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
    this.#handles = new Handles(
      cfg.maxConcurrentFiles,
      log,
      (p, what) => this.#reportOnce(p, what),
    );
    this.#reader = new FileReader(
      cfg,
      log,
      out,
      this.#handles,
      (p) => this.#openFile(p),
      options.signal,
    );
    this.#lost = new LostFiles({
      cfg,
      log,
      reader: this.#reader,
      handles: this.#handles,
      files: this.#files,
      forget: (tf) => this.#forget(tf),
      signal: options.signal,
    });
  }

  /** Files read since the receiver last took them (it clears the set). */
  get touched(): Set<TrackedFile> {
    return this.#reader.touched;
  }

  /** What was read and reported so far. */
  get stats(): TrackerStats {
    return this.#reader.stats;
  }

  /** True when the last poll left data unread in a file (its read budget ran out). */
  get backlog(): boolean {
    return this.#reader.backlog;
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
    return this.#handles.size;
  }

  /** Restores states from a checkpoint: `start_at` then no longer applies. */
  restore(states: readonly TrackedFile[]): void {
    this.#quiet = false;
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
    this.#reader.observed = BigInt(nowMs) * 1_000_000n;
    this.#handles.beginPoll();
    this.#reader.backlog = false;
    const plan: PollPlan = sweep || this.#firstPoll || this.#watch === undefined
      ? { sweep: true, hints: undefined, checkMisses: false }
      : this.#watch.begin(nowMs, this.#finder.dirCount);
    const hints = plan.hints;
    if (!plan.sweep && this.#quiet && hints!.paths.size === 0 && hints!.dirs.size === 0) {
      // Nothing announced and nothing pending since a poll that found nothing to look at.
      this.lastPoll.sweep = false;
      this.lastPoll.checked = 0;
      return;
    }
    this.#quiet = false;
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
      this.#handles.trim(); // max_concurrent_files holds during the poll too
    }
    if (plan.sweep) this.#watch?.endSweep(nowMs, cost, checked, missed, plan.checkMisses);
    this.#watch?.polled(checked);
    this.lastPoll.sweep = plan.sweep;
    this.lastPoll.checked = checked;
    // Files no longer at a matched path: drain what is left first (ordering across rotation).
    let lost = 0;
    for (const tf of [...this.#files]) {
      if (this.#stopped) break;
      if (claimed.has(tf)) {
        tf.lostPolls = 0;
        tf.searched = false;
        continue;
      }
      lost++;
      await this.#lost.drain(tf, nowMs, claimed);
    }
    // A trusting poll with nothing to look at: the next ones are the same until an event.
    this.#quiet = !plan.sweep && checked === 0 && lost === 0;
    for (const tf of toRead) {
      if (this.#stopped) break;
      if (!this.#files.has(tf)) continue;
      await this.#reader.read(tf, nowMs, false, this.#readBudget);
      this.#handles.trim();
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
    for (const p of this.#handles.retryOpen) if (listed.has(p)) check.add(p);
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
      this.#handles.close(known);
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
      this.#handles.close(match);
      match.handle = handle;
      match.gzip = gz;
      this.#handles.use(match);
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
    this.#handles.use(tf);
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
    const retry = this.#handles.retryOpen;
    if (retry.size > 0) retry.delete(path);
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
      return { head: await gzipHead(handle, size), gz: true };
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
      this.#handles.use(tf);
      return (await this.#readFingerprint(tf.handle, path)).head;
    } catch (err) {
      if (isDenied(err)) this.#reportOnce(path, "file");
      this.#handles.close(tf);
      return undefined;
    }
  }

  /** Opens `path`; in the first poll, one left for lack of descriptors keeps `start_at: end`. */
  #openFile(path: string): Deno.FsFile | undefined {
    const h = this.#handles.open(path);
    if (h === undefined && this.#firstPoll && this.#handles.retryOpen.has(path)) {
      this.#startAtEndPaths.add(path);
    }
    return h;
  }

  #forget(tf: TrackedFile): void {
    this.#quiet = false;
    this.#handles.close(tf);
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
    this.#handles.clear();
  }
}

function mtimeOf(path: string): number | undefined {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  } catch {
    return undefined;
  }
}
