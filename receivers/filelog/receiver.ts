/**
 * The filelog receiver: polls at `poll_interval`, turns tokens into entries through the
 * operator chain, batches them into `Logs`, awaits the consumer (backpressure), retries
 * rejections without dropping, and checkpoints each file's position only after the data
 * before it was accepted (at-least-once).
 *
 * @module
 */

import type { CreateSettings, Host, Receiver } from "../../core/component.ts";
import { isPermanent, type LogsConsumer, RetryableError } from "../../core/consumer.ts";
import { cloneLogs, type Logs } from "../../core/pdata/logs.ts";
import { getStorageClient, type StorageClient } from "../../core/storage.ts";
import { ObsReport } from "../../core/receiverhelper/mod.ts";
import type { Counter, Gauge } from "../../core/telemetry/metrics.ts";
import { decodeCheckpoint, encodeCheckpoint, encodeFile, KNOWN_FILES_KEY } from "./checkpoint.ts";
import type { FilelogConfig } from "./config.ts";
import { LogsBuilder } from "../../pkg/stanza/adapter/convert.ts";
import type { ValueMap } from "../../pkg/stanza/entry.ts";
import { Pipeline } from "../../pkg/stanza/operator/registry.ts";
import { TrackedFile } from "./tracked_file.ts";
import { Tracker, type TrackerOptions } from "./tracker.ts";

/** Records per `consume` before the receiver sends a batch mid-poll. */
export const BATCH_RECORDS = 4096;
/**
 * Least time between two checkpoint writes while running, once the checkpoint is large
 * (many files); a small one is written after every poll that moved, as upstream does, so
 * a crash repeats as little as possible.
 */
const CHECKPOINT_EVERY_MS = 1000;
const LARGE_CHECKPOINT_BYTES = 64 * 1024;
/**
 * Within a poll (a backlog), a checkpoint is also written once this many records were
 * accepted since the last one (a small checkpoint) or CHECKPOINT_EVERY_MS passed: a crash
 * re-sends at most about this many records, or a second's worth, plus the batch in flight.
 */
export const CHECKPOINT_EVERY_RECORDS = 16384;
/** How long shutdown waits for a poll (and its delivery) to finish before giving up on it. */
const SHUTDOWN_GRACE_MS = 5000;

/** Receiver tuning for tests and the bench (not config keys). */
export interface ReceiverOptions extends TrackerOptions {
  readonly shutdownGraceMs?: number;
}

interface Mark {
  readonly tf: TrackedFile;
  readonly offset: number;
  readonly recordNum: number;
}

/** One running filelog receiver. */
export class FilelogReceiver implements Receiver {
  readonly #settings: CreateSettings;
  readonly #cfg: FilelogConfig;
  readonly #next: LogsConsumer;
  readonly #builder = new LogsBuilder();
  readonly #tracker: Tracker;
  readonly #pipeline: Pipeline;
  readonly #abort = new AbortController();
  /** Files whose last mark was held back by an operator. */
  readonly #limited = new Set<TrackedFile>();
  #storage: StorageClient | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  readonly #wakers = new Set<() => void>();
  #lastCheckpoint = 0;
  #lastCheckpointBytes = 0;
  #lastCount = -1;
  /** Records accepted since the last checkpoint write. */
  #acceptedSince = 0;
  #started = false;
  #polling: Promise<void> = Promise.resolve();
  readonly #openFiles: Gauge;
  readonly #ownCounters: Record<string, Counter>;
  #reportedStats = { invalidEncoding: 0, cutTokens: 0, unreadable: 0 };

  readonly #graceMs: number;

  /**
   * `options.shutdownGraceMs` bounds how long shutdown waits for an in-flight delivery;
   * `watch`/`sweepMs` tune change notifications (see {@linkcode TrackerOptions}).
   */
  constructor(
    settings: CreateSettings,
    cfg: FilelogConfig,
    next: LogsConsumer,
    options: ReceiverOptions = {},
  ) {
    this.#graceMs = options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS;
    this.#settings = settings;
    this.#cfg = cfg;
    // The receiver helper counts accepted/refused records around every hand-over.
    this.#next = new ObsReport(settings, "").wrap(next);
    const m = settings.metrics;
    this.#openFiles = m.gauge("otelcol_fileconsumer_open_files", "Number of open files");
    const opErrors = m.counter(
      "otelcol_filelog_operator_errors",
      "Entries an operator failed to process (handled per on_error).",
    );
    this.#ownCounters = {
      invalidEncoding: m.counter(
        "otelcol_filelog_invalid_encoding_records",
        "Records whose invalid byte sequences were replaced by U+FFFD.",
      ),
      cutTokens: m.counter(
        "otelcol_filelog_split_records",
        "Records cut at max_log_size (split or truncated).",
      ),
      unreadable: m.counter(
        "otelcol_filelog_unreadable_files",
        "Files or directories that could not be read.",
      ),
    };
    const labels = settings.componentLabels;
    this.#pipeline = new Pipeline(cfg.operators, {
      logger: settings.logger,
      countError: (operatorId) => opErrors.add(1, { ...labels, operator_id: operatorId }),
    }, (e) => this.#builder.add(e));
    this.#tracker = new Tracker(cfg, settings.logger, {
      entry: (e) => this.#pipeline.process(e),
      chunkDone: () => this.#builder.count >= BATCH_RECORDS ? this.#flush() : Promise.resolve(),
    }, { ...options, signal: this.#abort.signal });
  }

  /** Opens storage, restores checkpoints and starts polling. */
  async start(host: Host): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#cfg.storage !== undefined) {
      this.#storage = await getStorageClient(
        host,
        this.#cfg.storage,
        "receiver",
        this.#settings.id,
      );
      await this.#restore(this.#storage);
    }
    this.#loop = this.#run();
  }

  async #restore(storage: StorageClient): Promise<void> {
    const data = await storage.get(KNOWN_FILES_KEY);
    if (data === undefined) return;
    let saved;
    try {
      saved = decodeCheckpoint(data);
    } catch (err) {
      this.#settings.logger.error(
        "Stored checkpoint is unreadable; starting without it (files follow start_at)",
        { error: err },
      );
      return;
    }
    const states = saved.map((c) => {
      const tf = new TrackedFile(
        c.fingerprint,
        c.path,
        c.attributes as ValueMap,
        c.offset,
        c.recordNum,
      );
      tf.gzip = c.gzip;
      if (this.#cfg.header !== undefined) {
        tf.headerDone = c.headerFinalized;
        // Header attributes are stored among the file attributes, as upstream does.
        for (const [k, v] of Object.entries(c.attributes)) {
          if (!k.startsWith("log.file.")) (tf.headerAttrs ??= {})[k] = v as ValueMap[string];
        }
      }
      return tf;
    });
    this.#tracker.restore(states);
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      const t0 = Date.now();
      try {
        await this.#serialised(() => this.#pollNow(false));
      } catch (err) {
        this.#settings.logger.error("Poll failed; retrying at the next interval", { error: err });
      }
      // A backlog left for the next round is read on at once.
      const wait = this.#tracker.backlog
        ? 0
        : Math.max(0, this.#cfg.pollIntervalMs - (Date.now() - t0));
      if (!this.#stopping) await this.#sleep(wait);
    }
  }

  /** Sleeps `ms`, or until shutdown wakes every sleeper. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wakers = this.#wakers;
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
    });
  }

  #wakeAll(): void {
    for (const w of [...this.#wakers]) w();
  }

  /**
   * One poll that stats every matched path (never trusting change notifications), delivery
   * and checkpoint; serialised with the background loop (tests call it).
   */
  pollOnce(): Promise<void> {
    return this.#serialised(() => this.#pollNow(true));
  }

  /** True while change notifications stand in for stat'ing every file (tests). */
  get watching(): boolean {
    return this.#tracker.watching;
  }

  /** The tracker, for tests that look at what polls did. */
  get tracker(): Tracker {
    return this.#tracker;
  }

  #serialised(fn: () => Promise<void>): Promise<void> {
    const run = this.#polling.then(fn);
    this.#polling = run.catch(() => {});
    return run;
  }

  async #pollNow(sweep: boolean): Promise<void> {
    if (this.#abort.signal.aborted) return;
    const now = Date.now();
    await this.#tracker.poll(now, sweep);
    this.#pipeline.tick(now);
    await this.#flush();
    if (this.#cfg.deleteAfterRead) {
      for (const tf of [...this.#tracker.files]) await this.#tracker.deleteIfDone(tf);
    }
    this.#openFiles.set(this.#tracker.openFiles, this.#settings.componentLabels);
    this.#reportStats();
    await this.#checkpoint(false);
  }

  #reportStats(): void {
    const s = this.#tracker.stats;
    for (const k of ["invalidEncoding", "cutTokens", "unreadable"] as const) {
      const delta = s[k] - this.#reportedStats[k];
      if (delta > 0) this.#ownCounters[k]!.add(delta, this.#settings.componentLabels);
      this.#reportedStats[k] = s[k];
    }
  }

  /** Positions safe to acknowledge once the current batch is accepted. */
  #marks(): Mark[] {
    const marks: Mark[] = [];
    const files = new Set([...this.#tracker.touched, ...this.#limited]);
    this.#tracker.touched.clear();
    this.#limited.clear();
    for (const tf of files) {
      const held = this.#pipeline.held(tf.id);
      if (held !== undefined && held.start < tf.readOffset) {
        marks.push({ tf, offset: held.start, recordNum: held.recordNum });
        this.#limited.add(tf);
      } else marks.push({ tf, offset: tf.readOffset, recordNum: tf.recordNum });
    }
    return marks;
  }

  /** Sends the current batch and, once accepted, advances the files' acknowledged positions. */
  async #flush(): Promise<void> {
    const marks = this.#marks();
    const count = this.#builder.count;
    if (count > 0) {
      const logs = this.#builder.take();
      if (!await this.#deliver(logs, count)) return; // shutting down: positions stay behind
    }
    for (const m of marks) {
      if (m.tf.ackOffset !== m.offset || m.tf.ackRecordNum !== m.recordNum) {
        m.tf.ackOffset = m.offset;
        m.tf.ackRecordNum = m.recordNum;
        m.tf.dirty = true;
      }
    }
    this.#acceptedSince += count;
    if (count > 0 && (this.#acceptedSince >= CHECKPOINT_EVERY_RECORDS || this.#checkpointDue())) {
      await this.#checkpoint(false);
    }
  }

  /** True when the last checkpoint write is older than CHECKPOINT_EVERY_MS. */
  #checkpointDue(): boolean {
    return Date.now() - this.#lastCheckpoint >= CHECKPOINT_EVERY_MS;
  }

  /** Delivers one batch, retrying retryable errors with backoff; false when abandoned. */
  async #deliver(logs: Logs, count: number): Promise<boolean> {
    const retry = this.#cfg.retryOnFailure;
    const started = Date.now();
    let wait = retry.initialIntervalMs;
    let attempt = 0;
    for (;;) {
      if (this.#abort.signal.aborted) return false;
      try {
        const batch = this.#next.mutatesData ? cloneLogs(logs) : logs;
        const signal = this.#abort.signal;
        if (!await untilAborted(this.#next.consume(batch, { signal }), signal)) return false;
        return true;
      } catch (err) {
        if (isPermanent(err)) {
          this.#settings.logger.error("Consumer rejected logs permanently; dropping them", {
            records: count,
            error: err,
          });
          return true;
        }
        if (
          retry.enabled && retry.maxElapsedTimeMs > 0 &&
          Date.now() - started >= retry.maxElapsedTimeMs
        ) {
          this.#settings.logger.error(
            "Giving up on logs after retry_on_failure::max_elapsed_time",
            {
              records: count,
              error: err,
            },
          );
          return true;
        }
        const hint = err instanceof RetryableError ? err.retryAfterMs : undefined;
        const delay = Math.min(hint ?? wait, retry.maxIntervalMs);
        (attempt++ === 0 ? this.#settings.logger.warn : this.#settings.logger.debug)(
          "Consumer rejected logs; reading is paused and the batch will be retried",
          { records: count, retry_in_ms: delay, error: err },
        );
        await this.#sleep(delay);
        if (this.#stopping && this.#abort.signal.aborted) return false;
        wait = Math.min(wait * 1.5, retry.maxIntervalMs);
      }
    }
  }

  async #checkpoint(force: boolean): Promise<void> {
    const storage = this.#storage;
    if (storage === undefined) return;
    const files = this.#tracker.files;
    let dirty = files.size !== this.#lastCount;
    for (const tf of files) if (tf.dirty) dirty = true;
    if (!dirty) return;
    const now = Date.now();
    if (
      !force && this.#lastCheckpointBytes >= LARGE_CHECKPOINT_BYTES &&
      now - this.#lastCheckpoint < CHECKPOINT_EVERY_MS
    ) {
      return;
    }
    const lines: string[] = [];
    for (const tf of files) {
      if (tf.dirty || tf.encoded === "") {
        tf.encoded = encodeFile({
          fingerprint: tf.fp,
          offset: tf.ackOffset,
          recordNum: tf.ackRecordNum,
          attributes: tf.attrs,
          path: tf.origPath,
          gzip: tf.gzip,
          headerFinalized: this.#cfg.header !== undefined && tf.headerDone,
          flushLastChangeMs: tf.pendingSince ?? 0,
          flushLength: tf.pendingSince === undefined ? 0 : tf.pendingSize - tf.pendingOffset,
        });
        tf.dirty = false;
      }
      lines.push(tf.encoded);
    }
    try {
      const data = encodeCheckpoint(lines);
      await storage.set(KNOWN_FILES_KEY, data);
      this.#lastCheckpoint = now;
      this.#lastCheckpointBytes = data.length;
      this.#lastCount = files.size;
      this.#acceptedSince = 0;
    } catch (err) {
      for (const tf of files) tf.dirty = true;
      this.#settings.logger.error("Could not save checkpoint; will retry", { error: err });
    }
  }

  /** Stops polling, waits for the current delivery (bounded), saves the checkpoint. */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#wakeAll();
    if (this.#loop !== undefined) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, this.#graceMs));
      await Promise.race([this.#loop, grace]);
      clearTimeout(timer);
      this.#abort.abort();
      this.#wakeAll();
      await this.#loop;
    }
    this.#abort.abort();
    if (this.#storage === undefined && this.#started) {
      // Without storage nothing would re-read held partial lines: emit them now.
      this.#pipeline.flushAll();
      if (this.#builder.count > 0) {
        try {
          await this.#next.consume(this.#builder.take(), {});
        } catch (err) {
          this.#settings.logger.warn("Could not deliver the last partial lines at shutdown", {
            error: err,
          });
        }
      }
    }
    await this.#checkpoint(true);
    await this.#tracker.close();
    if (this.#storage !== undefined) {
      await this.#storage.close().catch(() => {});
      this.#storage = undefined;
    }
  }
}

/** Resolves true when `p` resolves, false when `signal` aborts first; rejects as `p` does. */
function untilAborted(p: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      },
      (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
