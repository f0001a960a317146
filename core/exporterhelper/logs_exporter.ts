/**
 * Wraps an exporter's single send attempt with upstream's exporterhelper behaviour:
 * `sending_queue` (in memory or persistent, optional `batch`), `retry_on_failure`, and the
 * exporter metrics. An exporter provides {@linkcode LogsSender}; this gives back an
 * {@linkcode Exporter}.
 *
 * When `consume` resolves (at-least-once, ARCHITECTURE.md):
 * - persistent queue: once the request is on disk;
 * - in-memory queue, or no queue: once the backend accepted it (or it failed for good:
 *   then `consume` rejects with the error, permanent or retryable). The in-memory queue
 *   still bounds and parallelises sending. `wait_for_result: false` restores upstream's
 *   fire-and-forget acknowledgement.
 *
 * @module
 */

import { settledWithin } from "../async.ts";
import type { CreateSettings, Exporter, Host } from "../component.ts";
import {
  type ClientInfo,
  type ConsumeContext,
  isPermanent,
  PermanentError,
  RetryableError,
} from "../consumer.ts";
import { logRecordCount, type Logs } from "../pdata/logs.ts";
import { decodeLogsRequest, encodeLogsRequest, logsRequestSize } from "../pdata/otlp_proto.ts";
import { getStorageClient } from "../storage.ts";
import { type FlushTrigger, PartitionedBatcher } from "./batcher.ts";
import type { QueueConfig, RetryConfig } from "./config.ts";
import { sizeOf } from "./logs_batch.ts";
import { ExporterMetrics } from "./metrics.ts";
import { PersistentQueue, type QueueCodec } from "./persistent_queue.ts";
import { MemoryQueue, type Queue, type QueueEntry, QueueFullError } from "./queue.ts";
import { errorMessage, RetryAbortedError, type RetryDeps, sendWithRetry } from "./retry.ts";

/** What a send attempt may report besides success. */
export interface SendResult {
  /** Records the backend refused in a partial success (counted as failed, not retried). */
  rejected?: number;
}

/** One exporter's transport: a single attempt to send one batch. */
export interface LogsSender {
  /** Prepares the transport (clients, authenticators). */
  start?(host: Host): Promise<void>;
  /** Releases the transport. */
  shutdown?(): Promise<void>;
  /**
   * Sends once. Rejects with a `PermanentError` when retrying cannot help, with a
   * `RetryableError` (optionally carrying `retryAfterMs`) or any other error otherwise.
   * `signal` aborts at the end of the shutdown drain. `encoded`, when given, is `logs` as an
   * OTLP protobuf request already (read back from a persistent queue): a sender may send those
   * bytes instead of encoding again, and may take them over (they are not used afterwards).
   */
  send(
    logs: Logs,
    client: ClientInfo | undefined,
    signal: AbortSignal,
    encoded?: Uint8Array,
  ): Promise<SendResult | void>;
}

/** Options of {@linkcode newLogsExporter}. */
export interface LogsExporterOptions {
  retry: RetryConfig;
  queue: QueueConfig;
  /** How long shutdown keeps sending what is queued. @default 15000 */
  drainTimeoutMs?: number;
  /** For tests: the retry clock. */
  retryDeps?: Partial<RetryDeps>;
  /** For tests: the batch reader's byte budget. @default READER_BUDGET_BYTES */
  readerBudgetBytes?: number;
}

/** A queued request: the logs and the client metadata that came with them. */
export interface QueuedRequest {
  logs: Logs;
  metadata?: ReadonlyMap<string, readonly string[]>;
  /** In-memory queue with `wait_for_result`: settles the producer's `consume`. */
  settle?: (err?: unknown) => void;
  /**
   * `logs` already encoded as an OTLP protobuf request: when that was needed to measure it
   * (persistent queue with the bytes sizer, so the queue stores these bytes instead of
   * encoding again), and when read back from a persistent queue (so the sender need not
   * encode again).
   */
  encoded?: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Persistent queue encoding: 4-byte length, metadata JSON, then the OTLP protobuf request. */
export const REQUEST_CODEC: QueueCodec<QueuedRequest> = {
  encode(req: QueuedRequest): Uint8Array {
    const meta = encoder.encode(JSON.stringify(req.metadata ? [...req.metadata] : []));
    const body = req.encoded ?? encodeLogsRequest(req.logs);
    const out = new Uint8Array(4 + meta.length + body.length);
    new DataView(out.buffer).setUint32(0, meta.length);
    out.set(meta, 4);
    out.set(body, 4 + meta.length);
    return out;
  },
  decode(bytes: Uint8Array): QueuedRequest {
    if (bytes.length < 4) throw new Error("request too short");
    const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
    if (4 + n > bytes.length) throw new Error("metadata length past the end");
    const entries = JSON.parse(decoder.decode(bytes.subarray(4, 4 + n))) as [string, string[]][];
    if (!Array.isArray(entries)) throw new Error("metadata is not a list");
    const encoded = bytes.subarray(4 + n);
    const logs = decodeLogsRequest(encoded);
    return entries.length > 0 ? { logs, metadata: new Map(entries), encoded } : { logs, encoded };
  },
  size(): number {
    return 1;
  },
};

/** A running total (sends in flight, bytes held) that a reader can wait to see below a limit. */
class Tally {
  #count = 0;
  #waiters: Array<() => void> = [];

  get count(): number {
    return this.#count;
  }

  add(n: number): void {
    this.#count += n;
    if (n < 0) { for (const w of this.#waiters.splice(0)) w(); }
  }

  async below(limit: number): Promise<void> {
    while (this.#count >= limit) await new Promise<void>((r) => this.#waiters.push(r));
  }
}

/**
 * With `sending_queue::batch`, requests read from the queue and not yet finished hold at most
 * this many bytes (protobuf size), or two batches' worth when `min_size`/`max_size` in bytes
 * are larger: a long outage must not decode the whole queue into memory.
 */
export const READER_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * Builds an exporter from a sender: queue, batching, retry and metrics per `options`.
 * The exporter id in `settings` names the persistent queue's storage client.
 */
export function newLogsExporter(
  settings: CreateSettings,
  options: LogsExporterOptions,
  sender: LogsSender,
): Exporter {
  return new HelperExporter(settings, options, sender);
}

class HelperExporter implements Exporter {
  readonly mutatesData = false;
  readonly #settings: CreateSettings;
  readonly #opts: LogsExporterOptions;
  readonly #sender: LogsSender;
  readonly #metrics: ExporterMetrics;
  readonly #abort = new AbortController();
  #queue: Queue<QueuedRequest> | undefined;
  #workers: Promise<void>[] = [];
  #batcher: PartitionedBatcher | undefined;
  #inFlight = new Tally();
  /** Protobuf bytes of the requests the batch reader holds (read, not yet finished). */
  #held = new Tally();
  #state: "new" | "started" | "stopping" | "stopped" = "new";
  /** Deliveries in progress that have had a failed attempt (retrying now). */
  #failing = 0;
  #shutdown: Promise<void> | undefined;

  constructor(settings: CreateSettings, options: LogsExporterOptions, sender: LogsSender) {
    this.#settings = settings;
    this.#opts = options;
    this.#sender = sender;
    this.#metrics = new ExporterMetrics(settings.metrics, settings.componentLabels);
  }

  async start(host: Host): Promise<void> {
    await this.#sender.start?.(host);
    const q = this.#opts.queue;
    if (q.enabled) {
      if (q.storage !== undefined) {
        const client = await getStorageClient(
          host,
          q.storage,
          "exporter",
          this.#settings.id,
          "logs",
        );
        const persistent = new PersistentQueue<QueuedRequest>({
          capacity: q.queueSize,
          blockOnOverflow: q.blockOnOverflow,
          client,
          codec: { ...REQUEST_CODEC, size: (req) => sizeOf(q.sizer, req.logs) },
          sizer: q.sizer,
          logger: this.#settings.logger,
          // The records of an unreadable request are lost: count them when the sizer knows
          // how many there were.
          onCorrupt: (_reason, size) => {
            if (q.sizer === "items") this.#metrics.sendFailed(size);
          },
        });
        try {
          await persistent.start();
        } catch (err) {
          await client.close().catch(() => {});
          throw new Error(
            `Cannot open the persistent sending queue in storage "${q.storage}": ${
              errorMessage(err)
            }`,
            { cause: err },
          );
        }
        this.#queue = persistent;
      } else {
        this.#queue = new MemoryQueue<QueuedRequest>({
          capacity: q.queueSize,
          blockOnOverflow: q.blockOnOverflow,
        });
      }
      this.#publishQueue();
      if (q.batch !== undefined) {
        const b = q.batch;
        this.#batcher = new PartitionedBatcher({
          sizer: b.sizer,
          minSize: b.minSize,
          maxSize: b.maxSize,
          timeoutMs: b.flushTimeoutMs,
          metadataKeys: b.metadataKeys,
          // Bounds memory under hostile header values; idle partitions are evicted first.
          cardinalityLimit: 1000,
          evictIdle: true,
          send: (logs, client) => this.#sendBatch(logs, client),
          onFlush: (trigger: FlushTrigger, size: number) => {
            this.#settings.logger.debug("Sending batch", { trigger, size });
            this.#metrics.batchSent(size);
          },
        });
        this.#workers.push(this.#batchReader());
      } else {
        for (let i = 0; i < q.numConsumers; i++) this.#workers.push(this.#worker());
      }
    }
    this.#state = "started";
  }

  #publishQueue(): void {
    if (this.#queue) this.#metrics.queue(this.#queue.size, this.#queue.capacity);
  }

  async consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
    if (this.#state !== "started") {
      throw new RetryableError(
        `Exporter ${this.#settings.id} is ${
          this.#state === "new" ? "not started" : "shutting down"
        }`,
      );
    }
    const records = logRecordCount(logs);
    if (records === 0) return;
    const metadata = ctx.client?.metadata;
    const queue = this.#queue;
    if (queue === undefined) {
      await this.#deliver(logs, metadata);
      return;
    }
    const q = this.#opts.queue;
    let settled: Promise<void> | undefined;
    const req: QueuedRequest = metadata ? { logs, metadata } : { logs };
    if (q.waitForResult && q.storage === undefined) {
      settled = new Promise<void>((resolve, reject) => {
        req.settle = (err) => err === undefined ? resolve() : reject(err);
      });
    }
    try {
      await queue.offer(req, this.#measure(req), ctx.signal);
    } catch (err) {
      this.#metrics.enqueueFailed(records);
      if (err instanceof QueueFullError) {
        this.#settings.logger.warn("Sending queue is full, refusing data", {
          dropped_items: records,
          capacity: queue.capacity,
        });
      }
      throw err;
    } finally {
      this.#publishQueue();
    }
    await settled;
  }

  /** The size of a request in the queue's sizer units. */
  #measure(req: QueuedRequest): number {
    const q = this.#opts.queue;
    if (q.sizer === "bytes" && q.storage !== undefined) {
      // The persistent queue stores the protobuf request anyway, and its length is what the
      // bytes sizer measures: encode once rather than measure and then encode.
      req.encoded = encodeLogsRequest(req.logs);
      return req.encoded.length;
    }
    return sizeOf(q.sizer, req.logs);
  }

  /**
   * While a persistent queue drains at shutdown, a failed attempt (now, or one still being
   * retried when shutdown began) ends the drain: what is not sent stays on disk for the next
   * start (as upstream's persistent queue keeps it), rather than being retried against a
   * backend that is down while the process waits to exit. An in-memory queue keeps retrying
   * until the drain timeout: its data has nowhere else to go.
   */
  #stopRetryingIfDraining(): void {
    if (this.#state === "stopping" && this.#opts.queue.storage !== undefined && this.#failing > 0) {
      this.#abort.abort(new RetryableError("exporter shutting down"));
    }
  }

  /** Sends with retries and counts the outcome; rejects with the final error. */
  async #deliver(
    logs: Logs,
    metadata: ReadonlyMap<string, readonly string[]> | undefined,
    encoded?: Uint8Array,
  ): Promise<void> {
    const records = logRecordCount(logs);
    const client: ClientInfo | undefined = metadata ? { metadata } : undefined;
    const signal = this.#abort.signal;
    let rejected = 0;
    let failed = false;
    this.#metrics.inFlight(1);
    try {
      await sendWithRetry(
        async (s) => {
          try {
            const result = await this.#sender.send(logs, client, s ?? signal, encoded);
            rejected = result?.rejected ?? 0;
          } catch (err) {
            if (!failed) this.#failing++;
            failed = true;
            this.#stopRetryingIfDraining();
            throw err;
          }
        },
        this.#opts.retry,
        { signal, logger: this.#settings.logger, deps: this.#opts.retryDeps },
      );
    } catch (err) {
      if (err instanceof RetryAbortedError) throw err;
      if (signal.aborted) throw new RetryAbortedError(err);
      this.#metrics.sendFailed(records);
      const permanent = isPermanent(err);
      this.#settings.logger.error(
        permanent
          ? "Exporting failed. The error is not retryable. Dropping data."
          : "Exporting failed. Dropping data.",
        { error: errorMessage(err), dropped_items: records },
      );
      throw err;
    } finally {
      this.#metrics.inFlight(-1);
      if (failed) this.#failing--;
    }
    const accepted = Math.max(0, records - rejected);
    this.#metrics.sent(accepted);
    this.#metrics.sendFailed(records - accepted);
  }

  /** A queue consumer without batching: one request at a time. */
  async #worker(): Promise<void> {
    // Each request is handled in its own call: a request held in this loop's frame would stay
    // reachable (V8 keeps dead locals of a suspended function) while it waits for the next one,
    // so every idle consumer would pin its last request's records and body.
    while (await this.#sendNext()) { /* next request */ }
  }

  /** Reads one request from the queue and delivers it; false once the queue is closed. */
  async #sendNext(): Promise<boolean> {
    const entry = await this.#queue!.read();
    if (entry === undefined) return false;
    let error: unknown;
    try {
      await this.#deliver(entry.value.logs, entry.value.metadata, entry.value.encoded);
    } catch (err) {
      error = err;
    }
    await this.#finish(entry, error);
    return true;
  }

  /** Releases a queue entry after its outcome, unless shutdown cut it short (then it stays). */
  async #finish(entry: QueueEntry<QueuedRequest>, error: unknown): Promise<void> {
    const persistent = this.#opts.queue.storage !== undefined;
    if (error instanceof RetryAbortedError && persistent) {
      // Interrupted by shutdown: the request stays on disk for the next start.
      entry.value.settle?.(error);
      return;
    }
    if (error instanceof RetryAbortedError) {
      this.#metrics.sendFailed(logRecordCount(entry.value.logs));
      this.#settings.logger.error("Dropping data: the exporter shut down before it was sent", {
        error: errorMessage(error),
        dropped_items: logRecordCount(entry.value.logs),
      });
    }
    try {
      await this.#queue!.done(entry);
    } catch (err) {
      this.#settings.logger.error("Cannot remove a sent request from the persistent queue", {
        error: errorMessage(err),
      });
    }
    this.#publishQueue();
    entry.value.settle?.(error);
  }

  /**
   * With `sending_queue::batch`: feeds queued requests to the batcher, holding at most
   * `num_consumers` batches in flight and {@linkcode READER_BUDGET_BYTES} read, so a slow
   * backend stops the reading.
   */
  async #batchReader(): Promise<void> {
    const queue = this.#queue!;
    const batcher = this.#batcher!;
    const q = this.#opts.queue;
    const b = q.batch!;
    const limit = q.numConsumers;
    const base = this.#opts.readerBudgetBytes ?? READER_BUDGET_BYTES;
    const budget = b.sizer === "bytes" ? Math.max(base, 2 * Math.max(b.minSize, b.maxSize)) : base;
    // When queue and batch measure alike, the queue's size of a request is the batcher's.
    const sameSizer = q.sizer === b.sizer;
    for (;;) {
      await this.#inFlight.below(limit);
      await this.#held.below(budget);
      const entry = await queue.read();
      if (entry === undefined) break;
      const records = logRecordCount(entry.value.logs);
      const client = entry.value.metadata ? { metadata: entry.value.metadata } : undefined;
      entry.value.encoded = undefined; // batches are encoded anew; don't hold the bytes as well
      // At the partition limit, wait for partitions to empty (and be dropped) rather than
      // refuse: the request may already be acknowledged (persistent queue, or
      // wait_for_result: false), and the collector's own limits never drop such data.
      while (!batcher.hasRoomFor(client)) await batcher.flushAll();
      const bytes = q.sizer === "bytes" ? entry.size : logsRequestSize(entry.value.logs);
      this.#held.add(bytes);
      // The batcher takes the logs; outcomes were counted per batch in #sendBatch.
      batcher.add(entry.value.logs, client, sameSizer ? entry.size : undefined).then(
        () => this.#finish(entry, undefined),
        (err) => this.#finish(entry, err),
      ).catch((err) =>
        this.#settings.logger.error("Unexpected error finishing a request", {
          error: errorMessage(err),
          records,
        })
      ).finally(() => this.#held.add(-bytes));
    }
    await batcher.flushAll();
  }

  async #sendBatch(logs: Logs, client: ClientInfo | undefined): Promise<void> {
    if (this.#metrics.wantsBatchBytes) this.#metrics.batchBytes(logsRequestSize(logs));
    this.#inFlight.add(1);
    try {
      await this.#deliver(logs, client?.metadata);
    } finally {
      this.#inFlight.add(-1);
    }
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    if (this.#state === "new") {
      this.#state = "stopped";
      await this.#sender.shutdown?.();
      return;
    }
    this.#state = "stopping";
    const queue = this.#queue;
    if (queue !== undefined) {
      queue.close();
      this.#stopRetryingIfDraining();
      const ms = this.#opts.drainTimeoutMs ?? 15_000;
      if (!await settledWithin(Promise.all(this.#workers), ms)) {
        this.#settings.logger.warn("Sending queue not drained in time, stopping", {
          pending_requests: queue.length,
          persistent: this.#opts.queue.storage !== undefined,
        });
      }
      this.#abort.abort(new RetryableError("exporter shutting down"));
      queue.stop();
      await Promise.all(this.#workers);
      await this.#batcher?.flushAll();
      if (queue instanceof MemoryQueue) {
        const left = queue.drainPending();
        const records = left.reduce((n, e) => n + logRecordCount(e.value.logs), 0);
        if (records > 0) {
          this.#metrics.sendFailed(records);
          this.#settings.logger.error("Dropping queued data at shutdown", {
            dropped_items: records,
          });
        }
        for (const e of left) {
          e.value.settle?.(new RetryableError("Exporter shut down before the data was sent"));
        }
      }
      await queue.shutdown();
      this.#metrics.removeQueue();
    } else {
      this.#abort.abort(new RetryableError("exporter shutting down"));
    }
    this.#state = "stopped";
    await this.#sender.shutdown?.();
  }
}

/** Re-exported so exporters need one import for error types. */
export { PermanentError, RetryableError };
