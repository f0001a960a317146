/**
 * Size- and time-triggered batching, shared by the `batch` processor and the exporter's
 * `sending_queue::batch`. Every piece added gets a promise that settles once all the
 * batches holding its records were sent: it resolves when they all succeeded and otherwise
 * rejects with the first error, so callers keep both backpressure and the send result.
 *
 * @module
 */

import { PermanentError } from "../consumer.ts";
import type { ClientInfo } from "../consumer.ts";
import { concatEncoded } from "../pdata/encoded_logs.ts";
import type { Logs } from "../pdata/logs.ts";
import { sizeOf, splitLogs } from "./logs_batch.ts";
import { Fifo } from "./queue.ts";

/** Why a batch was sent. */
export type FlushTrigger = "size" | "timeout" | "shutdown";

/** Options of a {@linkcode Batcher}. */
export interface BatcherOptions {
  sizer: "items" | "bytes";
  /** Send once at least this much is pending; 0 sends every piece at once. */
  minSize: number;
  /** Split batches larger than this; 0 = no limit. */
  maxSize: number;
  /** Send what is pending this long after the first of it arrived; 0 sends at once. */
  timeoutMs: number;
  /** Sends one batch. */
  send(logs: Logs): Promise<void>;
  /** Told about every batch handed to `send`. */
  onFlush?(trigger: FlushTrigger, size: number): void;
}

interface Tracker {
  /** Pending segments plus batches in flight that hold some of this piece's records. */
  parts: number;
  added: boolean;
  error: unknown;
  resolve(): void;
  reject(err: unknown): void;
}

interface Segment {
  logs: Logs;
  size: number;
  tracker: Tracker;
}

function settle(t: Tracker): void {
  if (t.parts > 0 || !t.added) return;
  if (t.error === undefined) t.resolve();
  else t.reject(t.error);
}

/** One batch under construction and the timer that bounds its age. */
export class Batcher {
  readonly #opts: BatcherOptions;
  // Pending pieces, oldest first, in a Fifo: Array#shift moves every other element, which
  // is quadratic when a large piece was split into many.
  #segments = new Fifo<Segment>();
  #pendingSize = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight = new Set<Promise<void>>();

  /** Builds a batcher. */
  constructor(options: BatcherOptions) {
    this.#opts = options;
  }

  /** Size pending (not yet handed to `send`). */
  get pendingSize(): number {
    return this.#pendingSize;
  }

  /** True when nothing is pending and no send is in flight. */
  get idle(): boolean {
    return this.#pendingSize === 0 && this.#inFlight.size === 0;
  }

  /**
   * Adds `logs` (ownership passes to the batcher). Resolves once every batch holding its
   * records was sent; rejects with the first send error otherwise.
   */
  add(logs: Logs, size = sizeOf(this.#opts.sizer, logs)): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const tracker: Tracker = { parts: 0, added: false, error: undefined, resolve, reject };
      if (size > 0) {
        tracker.parts = 1;
        this.#segments.push({ logs, size, tracker });
        this.#pendingSize += size;
      }
      const o = this.#opts;
      if (o.timeoutMs === 0 || o.minSize === 0) {
        this.#flush(this.#pendingSize > 0 ? 1 : 0, "size");
      } else {
        if (this.#pendingSize >= o.minSize) this.#flush(o.minSize, "size");
        this.#armTimer();
      }
      tracker.added = true;
      settle(tracker);
    });
  }

  #armTimer(): void {
    if (this.#pendingSize === 0) {
      this.#clearTimer();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flush(1, "timeout");
      }, this.#opts.timeoutMs);
    }
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Sends batches while at least `threshold` is pending. */
  #flush(threshold: number, trigger: FlushTrigger): void {
    const max = this.#opts.maxSize;
    while (this.#pendingSize > 0 && this.#pendingSize >= threshold) {
      const batch = this.#cut(max > 0 ? max : Infinity);
      this.#dispatch(batch.logs, batch.size, batch.trackers, trigger);
    }
    if (this.#pendingSize === 0) this.#clearTimer();
    else if (this.#timer !== undefined && trigger !== "timeout") {
      // A size-triggered send starts a fresh age window for what is left, as upstream.
      this.#clearTimer();
      this.#armTimer();
    } else this.#armTimer();
  }

  #cut(limit: number): { logs: Logs; size: number; trackers: Tracker[] } {
    /** The pieces taken whole, in order; then possibly the first part of a split one. */
    const whole: Logs[] = [];
    let front: Logs | undefined;
    const trackers: Tracker[] = [];
    let size = 0;
    while (this.#segments.length > 0) {
      const seg = this.#segments.peek()!;
      let parts: Logs[] = [];
      if (size + seg.size > limit) {
        if (size >= limit) break;
        // Split this piece once, in one pass: its first part fills the batch, the other parts
        // stay first in line as pieces of their own (cutting one part off at a time would
        // copy and re-measure the rest again for every batch).
        parts = splitLogs(seg.logs, limit - size, limit, this.#opts.sizer);
      }
      this.#segments.shift();
      this.#pendingSize -= seg.size;
      trackers.push(seg.tracker);
      if (parts.length <= 1) {
        // It fits whole (the split may find that its size estimate was generous).
        whole.push(seg.logs);
        size += seg.size;
        continue;
      }
      const [first, ...rest] = parts;
      front = first!;
      size += sizeOf(this.#opts.sizer, front);
      const pending: Segment[] = rest.map((logs) => ({
        logs,
        size: sizeOf(this.#opts.sizer, logs),
        tracker: seg.tracker,
      }));
      this.#segments.unshiftAll(pending);
      for (const p of pending) this.#pendingSize += p.size;
      seg.tracker.parts += pending.length; // the other parts stay pending as well
      break;
    }
    if (front === undefined) {
      // One piece goes on as it came; several still encoded as their bytes joined.
      const joined = whole.length === 1 ? whole[0] : concatEncoded(whole);
      if (joined !== undefined) return { logs: joined, size, trackers };
    }
    const out: Logs = { resourceLogs: [] };
    for (const logs of front === undefined ? whole : [...whole, front]) {
      for (const rl of logs.resourceLogs) out.resourceLogs.push(rl);
    }
    return { logs: out, size, trackers };
  }

  #dispatch(logs: Logs, size: number, trackers: Tracker[], trigger: FlushTrigger): void {
    this.#opts.onFlush?.(trigger, size);
    let sent: Promise<void>;
    try {
      sent = this.#opts.send(logs);
    } catch (err) {
      sent = Promise.reject(err);
    }
    const p = sent.then(
      () => {
        for (const t of trackers) {
          t.parts--;
          settle(t);
        }
      },
      (err) => {
        for (const t of trackers) {
          t.parts--;
          if (t.error === undefined) t.error = err;
          settle(t);
        }
      },
    ).finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  /** Sends everything pending now and waits for every send in flight. */
  async flushAll(): Promise<void> {
    this.#clearTimer();
    this.#flush(1, "shutdown");
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }
}

/** Options of a {@linkcode PartitionedBatcher}. */
export interface PartitionedBatcherOptions extends Omit<BatcherOptions, "send" | "onFlush"> {
  /** Client metadata keys to partition by (case-insensitive); empty = one batcher. */
  metadataKeys: readonly string[];
  /** Most partitions allowed; more are refused. 0 = no limit. */
  cardinalityLimit: number;
  /**
   * Drop partitions with nothing pending or in flight before refusing a new one at the
   * limit (the exporter's batching); the batch processor counts every combination, as upstream.
   */
  evictIdle?: boolean;
  /** Sends one batch with the client metadata of its partition. */
  send(logs: Logs, client: ClientInfo | undefined): Promise<void>;
  onFlush?(trigger: FlushTrigger, size: number): void;
  /** Told the number of partitions whenever it changes. */
  onPartitions?(count: number): void;
}

/** Refusal of data that would open one partition more than `metadata_cardinality_limit`. */
export class TooManyPartitionsError extends PermanentError {
  /** Builds the error. */
  constructor(limit: number) {
    super(
      `Too many batcher metadata-value combinations (limit ${limit}): raise metadata_cardinality_limit or list fewer metadata_keys`,
    );
    this.name = "TooManyPartitionsError";
  }
}

/** One {@linkcode Batcher} per distinct combination of the `metadata_keys` values. */
export class PartitionedBatcher {
  readonly #opts: PartitionedBatcherOptions;
  readonly #keys: string[];
  #single: Batcher | undefined;
  #parts = new Map<string, Batcher>();

  /** Builds the batcher. */
  constructor(options: PartitionedBatcherOptions) {
    this.#opts = options;
    this.#keys = options.metadataKeys.map((k) => k.toLowerCase());
  }

  #newBatcher(client: ClientInfo | undefined): Batcher {
    return new Batcher({
      ...this.#opts,
      send: (logs) => this.#opts.send(logs, client),
      onFlush: this.#opts.onFlush,
    });
  }

  /**
   * True when data of `client` can be added now: its partition exists, or there is room for
   * one more (after dropping idle partitions, with `evictIdle`).
   */
  hasRoomFor(client: ClientInfo | undefined): boolean {
    if (this.#keys.length === 0) return true;
    const limit = this.#opts.cardinalityLimit;
    if (limit === 0 || this.#parts.size < limit) return true;
    if (this.#parts.has(this.#key(client))) return true;
    if (this.#opts.evictIdle) {
      for (const [k, part] of this.#parts) if (part.idle) this.#parts.delete(k);
    }
    return this.#parts.size < limit;
  }

  #key(client: ClientInfo | undefined): string {
    return JSON.stringify(this.#keys.map((k) => client?.metadata?.get(k)));
  }

  /** Adds `logs` to the batch of its partition; see {@linkcode Batcher.add}. */
  add(logs: Logs, client: ClientInfo | undefined, size?: number): Promise<void> {
    if (this.#keys.length === 0) {
      this.#single ??= this.#newBatcher(undefined);
      return this.#single.add(logs, size);
    }
    const key = this.#key(client);
    let b = this.#parts.get(key);
    if (b === undefined) {
      if (!this.hasRoomFor(client)) {
        return Promise.reject(new TooManyPartitionsError(this.#opts.cardinalityLimit));
      }
      // Only the partition keys travel on, as upstream's batcher does.
      const metadata = new Map<string, readonly string[]>();
      for (const k of this.#keys) {
        const v = client?.metadata?.get(k);
        if (v !== undefined) metadata.set(k, v);
      }
      b = this.#newBatcher({ metadata });
      this.#parts.set(key, b);
      this.#opts.onPartitions?.(this.#parts.size);
    }
    return b.add(logs, size);
  }

  /** Sends everything pending and waits for all sends in flight. */
  async flushAll(): Promise<void> {
    const all = [...this.#parts.values()];
    if (this.#single) all.push(this.#single);
    await Promise.all(all.map((b) => b.flushAll()));
  }
}
