/**
 * The persistent sending queue (`sending_queue::storage`): requests live in a storage
 * client (the file_storage extension) and survive restarts and SIGKILL.
 *
 * Layout (one client per exporter, storage name "logs"):
 * - `meta`: JSON `{v, r, w, s}`: every item index below `r` is finished, `w` is the next
 *   index to write, `s` the sizer the stored sizes were measured with;
 * - `i<n>`: one request: magic byte, format version, its size as float64, then the payload.
 *
 * An item is written together with the new `w` in one transaction, and deleted once it was
 * sent or failed for good, in the same transaction that moves `r` past it. A request that was
 * being sent when the process died is still stored, so the next start sends it again:
 * delivery is at least once (duplicates are possible, loss is not). A delete that failed (a
 * full disk, say) is repeated by every later transaction until one commits, so `r` never
 * passes an item still stored and a sent request is never left in storage for good.
 * Writes are group-committed: requests offered while a transaction runs go into the next one.
 *
 * @module
 */

import { RetryableError } from "../consumer.ts";
import type { StorageClient, StorageOperation } from "../storage.ts";
import type { Logger } from "../telemetry/logger.ts";
import { nopLogger } from "../telemetry/logger.ts";
import type { SizerType } from "./config.ts";
import { QueueBase, type QueueEntry, type QueueOptions } from "./queue.ts";
import { errorMessage } from "./retry.ts";

/** Turns queue values into bytes and back. */
export interface QueueCodec<T> {
  encode(value: T): Uint8Array;
  /** Throws on bytes it cannot read. */
  decode(bytes: Uint8Array): T;
  /** Size of a value in the queue's sizer units (used when the sizer changed across runs). */
  size(value: T): number;
}

/** Options of a {@linkcode PersistentQueue}. */
export interface PersistentQueueOptions<T> extends QueueOptions {
  client: StorageClient;
  codec: QueueCodec<T>;
  sizer: SizerType;
  logger?: Logger;
  /**
   * Called for a stored request that could not be read and was dropped, with why and its
   * size in sizer units (0 when even that was unreadable).
   */
  onCorrupt?: (reason: string, size: number) => void;
}

interface Meta {
  v: 1;
  r: number;
  w: number;
  s: SizerType;
}

interface IndexedEntry<T> extends QueueEntry<T> {
  readonly index: number;
}

const META_KEY = "meta";
const MAGIC = 0x51; // "Q"
const FORMAT = 1;
const HEADER = 10;
const LOAD_CHUNK = 256;

function itemKey(i: number): string {
  return `i${i}`;
}

function encodeItem(size: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  out[0] = MAGIC;
  out[1] = FORMAT;
  new DataView(out.buffer).setFloat64(2, size);
  out.set(payload, HEADER);
  return out;
}

function itemSize(bytes: Uint8Array): number | undefined {
  if (bytes.length < HEADER || bytes[0] !== MAGIC || bytes[1] !== FORMAT) return undefined;
  const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(2);
  return Number.isFinite(size) && size >= 0 ? size : undefined;
}

interface PendingWrite {
  ops: StorageOperation[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A queue whose requests are kept in a {@linkcode StorageClient}. */
export class PersistentQueue<T> extends QueueBase<T> {
  readonly #client: StorageClient;
  readonly #codec: QueueCodec<T>;
  readonly #sizer: SizerType;
  readonly #logger: Logger;
  readonly #onCorrupt: (reason: string, size: number) => void;
  #write = 0;
  #low = 0;
  /** Index → size of every request stored and not yet finished (waiting or being sent). */
  #open = new Map<number, number>();
  /** Indexes whose delete failed: every later transaction deletes them until one commits. */
  #retryDeletes = new Set<number>();
  /** Indexes waiting to be read, oldest first. */
  #ready: number[] = [];
  #readyHead = 0;
  #writes: PendingWrite[] = [];
  #started = false;
  #flushing: Promise<void> | undefined;

  /** Builds the queue; call `start` before use. */
  constructor(options: PersistentQueueOptions<T>) {
    super(options);
    this.#client = options.client;
    this.#codec = options.codec;
    this.#sizer = options.sizer;
    this.#logger = options.logger ?? nopLogger();
    this.#onCorrupt = options.onCorrupt ?? (() => {});
  }

  /** Loads the queue state an earlier run left in storage. */
  async start(): Promise<void> {
    const metaBytes = await this.#client.get(META_KEY);
    let meta: Meta = { v: 1, r: 0, w: 0, s: this.#sizer };
    if (metaBytes !== undefined) {
      try {
        const parsed = JSON.parse(new TextDecoder().decode(metaBytes)) as Partial<Meta>;
        if (
          parsed.v !== 1 || !Number.isSafeInteger(parsed.r) || !Number.isSafeInteger(parsed.w) ||
          parsed.r! > parsed.w! || parsed.r! < 0
        ) {
          throw new Error(`unexpected content ${JSON.stringify(parsed)}`);
        }
        meta = parsed as Meta;
      } catch (err) {
        // Without the indexes the items cannot be found; start over rather than refuse to run.
        this.#logger.error(
          "Persistent queue metadata is unreadable; starting with an empty queue",
          {
            error: errorMessage(err),
          },
        );
      }
    }
    this.#low = meta.r;
    this.#write = meta.w;
    const resize = meta.s !== this.#sizer;
    let recovered = 0;
    for (let from = meta.r; from < meta.w; from += LOAD_CHUNK) {
      const ops: StorageOperation[] = [];
      for (let i = from; i < Math.min(meta.w, from + LOAD_CHUNK); i++) {
        ops.push({ type: "get", key: itemKey(i) });
      }
      await this.#client.batch(ops);
      for (const op of ops) {
        if (op.type !== "get" || op.value === undefined) continue;
        const index = Number(op.key.slice(1));
        let size = itemSize(op.value);
        if (size !== undefined && resize) {
          try {
            size = this.#codec.size(this.#codec.decode(op.value.subarray(HEADER)));
          } catch {
            size = undefined;
          }
        }
        if (size === undefined) {
          this.#logger.error("Dropping an unreadable request from the persistent queue", {
            key: op.key,
          });
          this.#onCorrupt("unreadable header", 0);
          await this.#client.delete(op.key);
          continue;
        }
        this.#open.set(index, size);
        this.#ready.push(index);
        this.adopt(size);
        recovered++;
      }
    }
    this.#advanceLow();
    this.#started = true;
    if (recovered > 0) {
      this.#logger.info("Persistent queue resumed requests left by an earlier run", {
        requests: recovered,
      });
    }
    this.wakeReaders();
  }

  protected async store(value: T, size: number): Promise<void> {
    // Before `start` the indexes are unknown: writing now could overwrite stored requests.
    if (!this.#started) throw new RetryableError("The persistent queue is not started yet");
    const index = this.#write++;
    this.#open.set(index, size);
    const bytes = encodeItem(size, this.#codec.encode(value));
    try {
      await this.#commit([{ type: "set", key: itemKey(index), value: bytes }]);
    } catch (err) {
      this.#open.delete(index);
      this.#advanceLow();
      throw err;
    }
    this.#ready.push(index);
  }

  protected get available(): number {
    return this.#ready.length - this.#readyHead;
  }

  protected async take(): Promise<IndexedEntry<T> | undefined> {
    const index = this.#ready[this.#readyHead++]!;
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    let bytes: Uint8Array | undefined;
    let reason = "";
    try {
      bytes = await this.#client.get(itemKey(index));
      if (bytes === undefined) reason = "missing";
    } catch (err) {
      reason = errorMessage(err);
    }
    const size = bytes === undefined ? undefined : itemSize(bytes);
    if (bytes !== undefined && size !== undefined) {
      try {
        // The size measured at start wins over the header's: the sizer may have changed
        // since the item was written, and `done` must release what `start` counted.
        const counted = this.#open.get(index) ?? size;
        return { index, size: counted, value: this.#codec.decode(bytes.subarray(HEADER)) };
      } catch (err) {
        reason = errorMessage(err);
      }
    } else if (bytes !== undefined) {
      reason = "bad header";
    }
    this.#logger.error("Dropping an unreadable request from the persistent queue", {
      key: itemKey(index),
      error: reason,
    });
    const stored = this.#open.get(index) ?? 0;
    this.#onCorrupt(reason, stored);
    await this.#finish(index).catch(() => {});
    this.forget(stored);
    return undefined;
  }

  protected async remove(entry: QueueEntry<T>): Promise<void> {
    await this.#finish((entry as IndexedEntry<T>).index);
  }

  async #finish(index: number): Promise<void> {
    this.#open.delete(index);
    // `r` moves past the item in the transaction that deletes it, or (if that one fails) in a
    // later one, which repeats the delete: a committed `r` never passes a stored item.
    this.#advanceLow();
    await this.#commit([{ type: "delete", key: itemKey(index) }]);
  }

  #advanceLow(): void {
    while (this.#low < this.#write && !this.#open.has(this.#low)) this.#low++;
  }

  /** Queues `ops` for the next transaction, which also writes the current `meta`. */
  #commit(ops: StorageOperation[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#writes.push({ ops, resolve, reject });
      if (this.#flushing === undefined) this.#flushing = this.#flush();
    });
  }

  async #flush(): Promise<void> {
    while (this.#writes.length > 0) {
      const batch = this.#writes;
      this.#writes = [];
      const ops = batch.flatMap((w) => w.ops);
      for (const index of this.#retryDeletes) ops.push({ type: "delete", key: itemKey(index) });
      const meta: Meta = { v: 1, r: this.#low, w: this.#write, s: this.#sizer };
      ops.push({
        type: "set",
        key: META_KEY,
        value: new TextEncoder().encode(JSON.stringify(meta)),
      });
      try {
        await this.#client.batch(ops);
        this.#retryDeletes.clear();
        for (const w of batch) w.resolve();
      } catch (err) {
        // Nothing of the transaction was applied: the next one repeats its deletes.
        for (const op of ops) {
          if (op.type === "delete") this.#retryDeletes.add(Number(op.key.slice(1)));
        }
        for (const w of batch) w.reject(err);
      }
    }
    this.#flushing = undefined;
  }

  /** Waits for pending writes and closes the storage client. */
  override async shutdown(): Promise<void> {
    this.stop();
    while (this.#flushing !== undefined) await this.#flushing;
    // One more try for deletes that failed, so sent requests are not sent again next start.
    if (this.#retryDeletes.size > 0) await this.#commit([]).catch(() => {});
    await this.#client.close();
  }
}
