/**
 * The filelog receiver: polls at `poll_interval` and hands each file's tokens, as entries,
 * to the stanza receiver adapter (operator chain, batches, backpressure, retry); checkpoints
 * each file's position only after the data before it was accepted (at-least-once), as
 * batches are accepted during a backlog and after each poll.
 *
 * @module
 */

import { abortableSleep, settledWithin } from "../../core/async.ts";
import type { CreateSettings, Host, Receiver } from "../../core/component.ts";
import type { LogsConsumer } from "../../core/consumer.ts";
import { getStorageClient, type StorageClient } from "../../core/storage.ts";
import type { Counter, Gauge } from "../../core/telemetry/metrics.ts";
import { ReceiverAdapter } from "../../pkg/stanza/adapter/receiver_adapter.ts";
import type { ValueMap } from "../../pkg/stanza/entry.ts";
import { decodeCheckpoint, encodeCheckpoint, encodeFile, KNOWN_FILES_KEY } from "./checkpoint.ts";
import type { FilelogConfig } from "./config.ts";
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
 * re-sends at most about this many records, or a second's worth, plus the batches in flight
 * (the stanza adapter's IN_FLIGHT).
 */
export const CHECKPOINT_EVERY_RECORDS = 16384;
/** How long shutdown waits for a poll (and its delivery) to finish before giving up on it. */
const SHUTDOWN_GRACE_MS = 5000;

/** Receiver tuning for tests and the bench (not config keys). */
export interface ReceiverOptions extends TrackerOptions {
  readonly shutdownGraceMs?: number;
}

/** One running filelog receiver. */
export class FilelogReceiver implements Receiver {
  readonly #settings: CreateSettings;
  readonly #cfg: FilelogConfig;
  readonly #adapter: ReceiverAdapter;
  readonly #tracker: Tracker;
  /** Aborted when shutdown begins (wakes sleepers) and when it gives up waiting. */
  readonly #stop = new AbortController();
  readonly #abort = new AbortController();
  #storage: StorageClient | undefined;
  #loop: Promise<void> | undefined;
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
    this.#adapter = new ReceiverAdapter(settings, next, {
      operators: cfg.operators,
      retry: cfg.retryOnFailure,
      countError: (operatorId) => opErrors.add(1, { ...labels, operator_id: operatorId }),
      stopping: this.#stop.signal,
      abandon: this.#abort.signal,
    });
    this.#tracker = new Tracker(cfg, settings.logger, {
      entry: (e) => this.#adapter.process(e),
      chunkDone: () => this.#adapter.pending >= BATCH_RECORDS ? this.#flush() : Promise.resolve(),
      lineLane: this.#adapter.lineLane(),
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
    const stop = this.#stop.signal;
    while (!stop.aborted) {
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
      await abortableSleep(wait, stop).catch(() => {}); // shutdown ends the wait
    }
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
    this.#adapter.tick(now);
    await this.#flush();
    // pollOnce() promises delivery; the background loop reads on while batches are in flight.
    if (sweep) await this.#adapter.settled();
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

  /** Sends the current batch; once accepted, acknowledges the files read (and checkpoints). */
  async #flush(): Promise<void> {
    for (const tf of this.#tracker.touched) this.#adapter.touch(tf);
    this.#tracker.touched.clear();
    await this.#adapter.flush(async (count) => {
      this.#acceptedSince += count;
      if (count > 0 && (this.#acceptedSince >= CHECKPOINT_EVERY_RECORDS || this.#checkpointDue())) {
        await this.#checkpoint(false);
      }
    });
  }

  /** True when the last checkpoint write is older than CHECKPOINT_EVERY_MS. */
  #checkpointDue(): boolean {
    return Date.now() - this.#lastCheckpoint >= CHECKPOINT_EVERY_MS;
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
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    if (this.#loop !== undefined) {
      await settledWithin(this.#loop, this.#graceMs);
      this.#abort.abort();
      await this.#loop;
    }
    this.#abort.abort();
    // Without storage nothing would re-read held partial lines: emit them now.
    if (this.#storage === undefined && this.#started) await this.#adapter.flushHeld();
    await this.#adapter.settled(); // positions of abandoned batches stay behind
    await this.#checkpoint(true);
    await this.#tracker.close();
    if (this.#storage !== undefined) {
      await this.#storage.close().catch(() => {});
      this.#storage = undefined;
    }
  }
}
