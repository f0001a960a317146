/**
 * Test helpers for storage users: an in-memory {@linkcode StorageClient} whose committed
 * state can be handed to a fresh client, as after a crash, and whose writes can be made to
 * fail.
 *
 * @module
 */

import type { StorageClient, StorageOperation } from "../storage.ts";

/** An in-memory storage client with all-or-nothing `batch`, for tests. */
export class MemoryStorageClient implements StorageClient {
  /** The committed key-value state; share it with a new client to simulate a restart. */
  readonly data: Map<string, Uint8Array>;
  /** Number of upcoming write operations (`set`, `delete`, `batch`) that will fail. */
  failWrites = 0;
  /** Number of `batch` calls made. */
  batches = 0;
  #closed = false;

  /** Builds a client over `data` (a fresh map by default). */
  constructor(data: Map<string, Uint8Array> = new Map()) {
    this.data = data;
  }

  #check(write: boolean): void {
    if (this.#closed) throw new Error("storage client is closed");
    if (write && this.failWrites > 0) {
      this.failWrites--;
      throw new Error("injected storage failure");
    }
  }

  get(key: string): Promise<Uint8Array | undefined> {
    this.#check(false);
    const v = this.data.get(key);
    return Promise.resolve(v === undefined ? undefined : v.slice());
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    await this.batch([{ type: "set", key, value }]);
  }

  async delete(key: string): Promise<void> {
    await this.batch([{ type: "delete", key }]);
  }

  batch(ops: StorageOperation[]): Promise<void> {
    this.batches++;
    const writes = ops.some((o) => o.type !== "get");
    try {
      this.#check(writes);
    } catch (err) {
      return Promise.reject(err);
    }
    // Nothing below can fail, so applying in place is all or nothing.
    for (const op of ops) {
      if (op.type === "get") op.value = this.data.get(op.key)?.slice();
      else if (op.type === "set") this.data.set(op.key, op.value.slice());
      else this.data.delete(op.key);
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /** True once `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }
}
