/**
 * The bounded sending queue. {@linkcode MemoryQueue} keeps requests in memory;
 * `persistent_queue.ts` keeps them in a storage extension. Both count capacity in the
 * units of the `sizer` and release it only when a request is `done` (sent, or failed for
 * good), so the queue bounds everything the exporter holds, in flight included.
 *
 * @module
 */

import { RetryableError } from "../consumer.ts";

/** One queued request. */
export interface QueueEntry<T> {
  readonly value: T;
  /** Size in the queue's sizer units. */
  readonly size: number;
}

/** Refusal of a full queue (`block_on_overflow: false`); retryable. */
export class QueueFullError extends RetryableError {
  /** Builds the error. */
  constructor(capacity: number) {
    super(
      `Sending queue is full (capacity ${capacity}): the backend is slower than the input; ` +
        "raise sending_queue::queue_size or set sending_queue::block_on_overflow: true",
    );
    this.name = "QueueFullError";
  }
}

/** Refusal after the queue was closed for shutdown; retryable. */
export class QueueClosedError extends RetryableError {
  /** Builds the error. */
  constructor() {
    super("Sending queue is shutting down and takes no more data");
    this.name = "QueueClosedError";
  }
}

/** What the exporter helper needs of a queue. */
export interface Queue<T> {
  /** Capacity in sizer units. */
  readonly capacity: number;
  /** Size of everything offered and not yet done. */
  readonly size: number;
  /** Number of entries offered and not yet done. */
  readonly length: number;
  /** Opens the queue (a persistent one loads what an earlier run left). */
  start(): Promise<void>;
  /**
   * Adds a request. Resolves once it is held (on disk, for a persistent queue). When full it
   * waits for room if the queue blocks, or rejects with a {@linkcode QueueFullError}.
   */
  offer(value: T, size: number, signal?: AbortSignal): Promise<void>;
  /** Waits for the next request; `undefined` once the queue is closed and empty, or stopped. */
  read(): Promise<QueueEntry<T> | undefined>;
  /** Releases a request that was sent or failed for good (a persistent queue deletes it). */
  done(entry: QueueEntry<T>): Promise<void>;
  /** Refuses further offers; readers still get what is queued. */
  close(): void;
  /** Stops handing out requests at once; readers get `undefined`. */
  stop(): void;
  /** Waits for pending writes and releases the queue's resources (after `stop`). */
  shutdown(): Promise<void>;
}

/** Options of a queue. */
export interface QueueOptions {
  capacity: number;
  blockOnOverflow: boolean;
}

/** A FIFO array with an advancing head, compacted now and then. */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  /** Number of elements. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Appends at the tail. */
  push(v: T): void {
    this.#items.push(v);
  }

  /** The element at the head, left in place. */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** Inserts at the head. */
  unshift(v: T): void {
    if (this.#head > 0) this.#items[--this.#head] = v;
    else this.#items.unshift(v);
  }

  /** Inserts `values` at the head, in their order; O(values) when there is room in front. */
  unshiftAll(values: readonly T[]): void {
    if (values.length <= this.#head) {
      this.#head -= values.length;
      for (let i = 0; i < values.length; i++) this.#items[this.#head + i] = values[i]!;
    } else {
      this.#items = values.concat(this.#items.slice(this.#head));
      this.#head = 0;
    }
  }

  /** Removes and returns every element, head first. */
  takeAll(): T[] {
    const all = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return all;
  }

  /** Removes from the head. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const v = this.#items[this.#head]!;
    (this.#items as (T | undefined)[])[this.#head] = undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return v;
  }
}

/**
 * Waiting room for capacity and for readers; shared by both queues. Subclasses decide where
 * entries live.
 */
export abstract class QueueBase<T> implements Queue<T> {
  readonly capacity: number;
  readonly #block: boolean;
  #size = 0;
  #length = 0;
  #closed = false;
  #stopped = false;
  #roomWaiters: Array<() => void> = [];
  #readers: Array<() => void> = [];

  /** Sets capacity and overflow behaviour. */
  constructor(options: QueueOptions) {
    this.capacity = options.capacity;
    this.#block = options.blockOnOverflow;
  }

  /** Size of everything offered and not yet done. */
  get size(): number {
    return this.#size;
  }

  /** Number of entries offered and not yet done. */
  get length(): number {
    return this.#length;
  }

  /** True once `close` or `stop` was called. */
  protected get closed(): boolean {
    return this.#closed;
  }

  /** True once `stop` was called. */
  protected get stopped(): boolean {
    return this.#stopped;
  }

  abstract start(): Promise<void>;

  /** Stores an accepted entry where readers will find it (after `reserve`). */
  protected abstract store(value: T, size: number): Promise<void>;

  /** Takes the next stored entry, or `undefined` when there is none right now. */
  protected abstract take(): Promise<QueueEntry<T> | undefined> | QueueEntry<T> | undefined;

  /** True when `take` has something to give. */
  protected abstract get available(): number;

  /** Forgets a finished entry in the backing store. */
  protected abstract remove(entry: QueueEntry<T>): Promise<void>;

  // A request larger than the whole capacity is let in when the queue is empty: refusing it
  // forever would lose it, and blocking on it would never end.
  #hasRoom(size: number): boolean {
    return this.#size === 0 || this.#size + size <= this.capacity;
  }

  async offer(value: T, size: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw new QueueClosedError();
    while (!this.#hasRoom(size)) {
      if (!this.#block) throw new QueueFullError(this.capacity);
      await this.#waitForRoom(signal);
      if (this.#closed) throw new QueueClosedError();
    }
    this.#size += size;
    this.#length++;
    try {
      await this.store(value, size);
    } catch (err) {
      this.#release(size);
      throw err;
    }
    this.wakeReaders();
  }

  #waitForRoom(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        return reject(new RetryableError("Gave up waiting for room in the sending queue"));
      }
      const onAbort = (): void => {
        this.#roomWaiters = this.#roomWaiters.filter((w) => w !== wake);
        reject(new RetryableError("Gave up waiting for room in the sending queue"));
      };
      const wake = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#roomWaiters.push(wake);
    });
  }

  /** Counts an entry that a persistent queue found on disk at start. */
  protected adopt(size: number): void {
    this.#size += size;
    this.#length++;
  }

  /** Releases the room of an entry that was dropped without `done` (e.g. unreadable). */
  protected forget(size: number): void {
    this.#release(size);
  }

  #release(size: number): void {
    this.#size -= size;
    this.#length--;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  /** Wakes readers waiting for entries (after a store, a close or a stop). */
  protected wakeReaders(): void {
    for (const r of this.#readers.splice(0)) r();
  }

  async read(): Promise<QueueEntry<T> | undefined> {
    for (;;) {
      if (this.#stopped) return undefined;
      if (this.available > 0) {
        // `take` claims its entry synchronously; it gives `undefined` when the entry turned
        // out unreadable (a persistent queue drops those), and then we look again.
        const e = await this.take();
        if (e !== undefined) return e;
        continue;
      }
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => this.#readers.push(resolve));
    }
  }

  async done(entry: QueueEntry<T>): Promise<void> {
    try {
      await this.remove(entry);
    } finally {
      this.#release(entry.size);
    }
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#roomWaiters.splice(0)) w();
    this.wakeReaders();
  }

  stop(): void {
    this.#stopped = true;
    this.close();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The in-memory queue (upstream's default). */
export class MemoryQueue<T> extends QueueBase<T> {
  #fifo = new Fifo<QueueEntry<T>>();

  start(): Promise<void> {
    return Promise.resolve();
  }

  protected store(value: T, size: number): Promise<void> {
    this.#fifo.push({ value, size });
    return Promise.resolve();
  }

  protected take(): QueueEntry<T> | undefined {
    return this.#fifo.shift();
  }

  protected get available(): number {
    return this.#fifo.length;
  }

  protected remove(): Promise<void> {
    return Promise.resolve();
  }

  /** Removes and returns every entry not yet handed out (for shutdown accounting). */
  drainPending(): QueueEntry<T>[] {
    return this.#fifo.takeAll();
  }
}
