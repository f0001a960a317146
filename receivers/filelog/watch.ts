/**
 * File system change notifications (`Deno.watchFs`: inotify on Linux) used as a hint of
 * which paths to look at, so an idle poll does not stat every file and directory.
 *
 * A missing or late hint can only delay reading, never lose data: a poll that trusts the
 * hints still reads every file it was told about, files with a pending partial line or
 * unread data, files reached through symbolic links (their targets are not watched) and
 * files lost since the last poll; a full sweep (a stat of everything, as without hints)
 * runs every `sweepMs` (5s, stretched so that sweeps stay within ~0.25% of a core, and
 * further while sweeps find nothing the events missed), and at once when the event queue
 * overflowed. The controller falls back to plain polling, and tries again later, when:
 *
 * - notifications are unavailable (no inotify, watch limit, permission) or fail later;
 * - a sweep finds a change that no notification announced (a network file system, events
 *   dropped): hints are then not trusted for a while (backoff, doubling to an hour);
 * - the events cost more than polling would (a busy node writes thousands of lines per
 *   second, each one event): counted every `sweepMs`, polled for a while, then retried;
 * - a watched root is deleted, replaced or created (watches are re-established).
 *
 * @module
 */

import type { Logger } from "../../core/telemetry/logger.ts";
import { dirName } from "./file_attrs.ts";
import type { WatchRoot } from "./glob.ts";

/** What the events since the last poll named. */
export interface Hints {
  /** Every path an event named. */
  readonly paths: Set<string>;
  /** Directories whose listing may have changed (entries created, removed, renamed). */
  readonly dirs: Set<string>;
}

/** How the next poll should look for changes. */
export type PollPlan =
  /** Stat everything; `hints` (if any) were announced; `checkMisses` asks for a miss report. */
  | { readonly sweep: true; readonly hints: Hints | undefined; readonly checkMisses: boolean }
  /** Trust the hints: look only at what they name (and what is always checked). */
  | { readonly sweep: false; readonly hints: Hints };

/** Tuning, mainly for tests and the bench. */
export interface WatchOptions {
  /** Longest time between two full sweeps while hints are trusted. */
  readonly sweepMs: number;
  readonly pollIntervalMs: number;
  /** A sweep runs at most once per this many times its own cost (default 400: ≤ ~0.25%). */
  readonly sweepCostRatio?: number;
  /** A change younger than this may still have its event in flight (default 2s). */
  readonly missGraceMs?: number;
  /** The user's inotify watch limit (default: read from /proc). */
  readonly maxWatches?: number;
  /** Stand-in for `Deno.watchFs` (tests). */
  readonly watchFs?: (paths: string[], options: { recursive: boolean }) => Deno.FsWatcher;
}

/** Default time between two full sweeps while notifications are trusted. */
export const SWEEP_MS = 5000;
/** A full sweep runs at most once per this many times its own cost. */
const SWEEP_COST_RATIO = 400;
/**
 * Each sweep that finds nothing the events missed doubles the time to the next one, up to
 * this many times the stretched interval (~0.03% of a core) or `MAX_TRUSTED_SWEEP_MS`.
 * Missed events are the rare case on a local file system (an overflow is announced), and
 * a network file system shows at the first sweeps.
 */
const MAX_TRUST = 8;
const MAX_TRUSTED_SWEEP_MS = 120_000;
const MISS_GRACE_MS = 2000;
const FIRST_BACKOFF_MS = 60_000;
const MAX_BACKOFF_MS = 3_600_000;
/** Share of the user's inotify watch limit this receiver may take. */
const WATCH_SHARE = 0.5;

interface Identity {
  readonly dev: number;
  readonly ino: number | null;
}

/** Decides, poll by poll, whether change notifications can stand in for a full sweep. */
export class ChangeWatcher {
  readonly #roots: readonly WatchRoot[];
  readonly #log: Logger;
  readonly #opts: WatchOptions;
  #watchers: Deno.FsWatcher[] = [];
  #pumps: Promise<void>[] = [];
  /** Identity of each root when the watch was set (undefined = it did not exist). */
  #rootIds: Array<Identity | undefined> = [];
  #open = false;
  #retryAt = 0;
  #backoffMs = FIRST_BACKOFF_MS;
  #busyBackoffMs = FIRST_BACKOFF_MS;
  #paths = new Set<string>();
  #dirs = new Set<string>();
  #rescan = false;
  #error: unknown;
  #events = 0;
  #rescans = 0;
  /** Paths the polls looked at while notifications were trusted. */
  #checked = 0;
  /** Since when `#events`, `#rescans` and `#checked` count. */
  #countSince = 0;
  /** Paths the last sweep looked at: what every poll would look at without notifications. */
  #sweepPaths = 0;
  #lastSweep = 0;
  #sweepCostMs = 0;
  /** How many times the stretched interval the next sweep waits (see `MAX_TRUST`). */
  #trust = 1;
  #maxWatches: number | undefined;
  /** Why notifications are not used right now (for logs and tests), or "" when they are. */
  reason = "not started";

  /** Watches `roots` once a first sweep told how many directories there are. */
  constructor(roots: readonly WatchRoot[], log: Logger, opts: WatchOptions) {
    this.#roots = roots;
    this.#log = log;
    this.#opts = opts;
  }

  /** A change younger than this may still have its event in flight: not counted as missed. */
  get missGraceMs(): number {
    return this.#opts.missGraceMs ?? MISS_GRACE_MS;
  }

  /** True while notifications are trusted between sweeps. */
  get active(): boolean {
    return this.#open;
  }

  /** Plans the next poll; `dirCount` is how many directories the last sweep listed. */
  begin(now: number, dirCount: number): PollPlan {
    if (this.#open) {
      if (this.#error !== undefined) {
        this.#fallBack(now, "change notifications failed", { error: this.#error });
      } else if (this.#rootsMoved()) {
        // A root was created, deleted or replaced: watch again (now) and sweep.
        this.#close();
        this.#retryAt = now;
      } else if (now - this.#countSince >= this.#opts.sweepMs && this.#busy(now)) {
        this.#pollForAWhile(now);
      } else {
        const hints = this.#take();
        const elapsed = now - this.#lastSweep;
        if (this.#rescan) {
          // The event queue overflowed: some changes were not announced.
          this.#rescan = false;
          this.#rescans++;
          this.#lastSweep = now;
          return { sweep: true, hints, checkMisses: false };
        }
        // Sweeps stay within ~0.25% of a core however many files there are.
        const ratio = this.#opts.sweepCostRatio ?? SWEEP_COST_RATIO;
        const stretched = Math.max(this.#opts.sweepMs, this.#sweepCostMs * ratio);
        const trusted = Math.min(stretched * this.#trust, MAX_TRUSTED_SWEEP_MS);
        if (elapsed >= Math.max(stretched, trusted)) {
          this.#lastSweep = now;
          return { sweep: true, hints, checkMisses: true };
        }
        return { sweep: false, hints };
      }
    }
    if (now >= this.#retryAt && this.#tryOpen(now, dirCount)) {
      this.#lastSweep = now;
      return { sweep: true, hints: undefined, checkMisses: false };
    }
    return { sweep: true, hints: undefined, checkMisses: false };
  }

  /**
   * Reports a sweep planned by `begin`: its CPU cost (ms, what every poll would cost
   * without hints), how many paths it looked at, and the first change it found that no
   * event announced.
   */
  endSweep(
    now: number,
    costMs: number,
    paths: number,
    missed: string | undefined,
    checked: boolean,
  ): void {
    this.#sweepCostMs = costMs;
    this.#sweepPaths = paths;
    if (!this.#open) return;
    if (!checked) return;
    if (missed !== undefined) {
      this.#fallBack(now, "change notifications missed a change", { path: missed });
    } else {
      this.#trust = Math.min(this.#trust * 2, MAX_TRUST);
    }
  }

  /** Counts the paths a poll looked at (a sweep's or the hinted ones). */
  polled(paths: number): void {
    if (this.#open) this.#checked += paths;
  }

  /**
   * True when the events since the last count cost more than the polls they spared: one
   * event costs about what looking at one path in a sweep does (`bench/filelog_bench.ts
   * busy`: 30–45 µs per event against 17–30 µs per path of a 1,000-file sweep), so it
   * compares the events with the paths that polling every `poll_interval` would have
   * looked at and the hinted polls did not. Counts, not measured costs: the first sweeps
   * run cold code and cost 3–5× a steady one.
   */
  #busy(now: number): boolean {
    const polls = (now - this.#countSince) / this.#opts.pollIntervalMs;
    const spared = this.#sweepPaths * polls - this.#checked;
    const busy = this.#events > spared || this.#rescans > 1;
    if (busy) {
      this.#log.debug("Files change often: polling instead of change notifications", {
        events: this.#events,
        paths_spared: Math.round(spared),
        retry_in_ms: this.#busyBackoffMs,
      });
    } else {
      this.#busyBackoffMs = FIRST_BACKOFF_MS;
      this.#backoffMs = FIRST_BACKOFF_MS;
    }
    this.#countSince = now;
    this.#events = 0;
    this.#rescans = 0;
    this.#checked = 0;
    return busy;
  }

  #pollForAWhile(now: number): void {
    this.#close();
    this.#retryAt = now + this.#busyBackoffMs;
    this.reason = "files change faster than polling costs";
    this.#busyBackoffMs = Math.min(this.#busyBackoffMs * 2, MAX_BACKOFF_MS / 6);
  }

  /** Stops watching (idempotent) and waits for the event readers to end. */
  async close(): Promise<void> {
    this.#close();
    this.#retryAt = Infinity;
    this.reason = "closed";
    const pumps = this.#pumps;
    this.#pumps = [];
    await Promise.all(pumps);
  }

  #fallBack(now: number, msg: string, fields: Record<string, unknown>): void {
    this.#close();
    this.#retryAt = now + this.#backoffMs;
    this.reason = msg;
    this.#log.info(`${msg}: polling every poll_interval`, {
      ...fields,
      retry_in_ms: this.#backoffMs,
    });
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
  }

  #tryOpen(now: number, dirCount: number): boolean {
    const limit = this.#watchLimit();
    if (limit !== undefined && dirCount > limit * WATCH_SHARE) {
      this.#retryAt = now + MAX_BACKOFF_MS / 6;
      if (this.reason !== "too many directories") {
        this.#log.info("Too many directories to watch: polling every poll_interval", {
          directories: dirCount,
          max_user_watches: limit,
        });
      }
      this.reason = "too many directories";
      return false;
    }
    this.#rootIds = this.#roots.map((r) => identity(r.path));
    const watchers: Deno.FsWatcher[] = [];
    try {
      for (const recursive of [true, false]) {
        const paths = this.#roots
          .filter((r, i) => r.recursive === recursive && this.#rootIds[i] !== undefined)
          .map((r) => r.path);
        if (paths.length > 0) {
          watchers.push((this.#opts.watchFs ?? Deno.watchFs)(paths, { recursive }));
        }
      }
    } catch (err) {
      for (const w of watchers) closeQuietly(w);
      this.#retryAt = now + this.#backoffMs;
      this.reason = `cannot watch: ${(err as Error).message}`;
      this.#log.info("Change notifications unavailable: polling every poll_interval", {
        error: err,
        retry_in_ms: this.#backoffMs,
      });
      this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
      return false;
    }
    this.#watchers = watchers;
    this.#open = true;
    this.#error = undefined;
    this.#rescan = false;
    this.#events = 0;
    this.#rescans = 0;
    this.#checked = 0;
    this.#trust = 1;
    this.#countSince = now;
    this.#paths = new Set();
    this.#dirs = new Set();
    this.reason = "";
    for (const w of watchers) {
      const pump = this.#pump(w).finally(() => {
        this.#pumps = this.#pumps.filter((p) => p !== pump);
      });
      this.#pumps.push(pump);
    }
    return true;
  }

  async #pump(w: Deno.FsWatcher): Promise<void> {
    try {
      for await (const e of w) {
        this.#events++;
        if (e.flag === "rescan") {
          this.#rescan = true;
          continue;
        }
        // Content changes name the file; anything else may change a directory listing.
        const structural = e.kind !== "modify" && e.kind !== "access";
        for (const p of e.paths) {
          this.#paths.add(p);
          if (structural) {
            this.#dirs.add(p);
            this.#dirs.add(dirName(p));
          }
        }
      }
    } catch (err) {
      if (this.#watchers.includes(w)) this.#error = err;
    }
  }

  #take(): Hints {
    const hints = { paths: this.#paths, dirs: this.#dirs };
    this.#paths = new Set();
    this.#dirs = new Set();
    return hints;
  }

  #close(): void {
    const watchers = this.#watchers;
    this.#watchers = [];
    for (const w of watchers) closeQuietly(w);
    this.#open = false;
  }

  /** True when a root appeared, disappeared or was replaced since it was watched. */
  #rootsMoved(): boolean {
    for (let i = 0; i < this.#roots.length; i++) {
      const was = this.#rootIds[i];
      const now = identity(this.#roots[i]!.path);
      if (was?.ino !== now?.ino || was?.dev !== now?.dev) return true;
    }
    return false;
  }

  #watchLimit(): number | undefined {
    this.#maxWatches ??= this.#opts.maxWatches;
    if (this.#maxWatches === undefined) {
      try {
        const text = Deno.readTextFileSync("/proc/sys/fs/inotify/max_user_watches");
        this.#maxWatches = Number(text.trim()) || 0;
      } catch {
        this.#maxWatches = 0; // not Linux, or not readable: let watchFs decide
      }
    }
    return this.#maxWatches > 0 ? this.#maxWatches : undefined;
  }
}

function identity(path: string): Identity | undefined {
  try {
    const st = Deno.statSync(path);
    return st.isDirectory ? { dev: st.dev, ino: st.ino } : undefined;
  } catch {
    return undefined;
  }
}

function closeQuietly(w: Deno.FsWatcher): void {
  try {
    w.close();
  } catch {
    // Already closed.
  }
}
