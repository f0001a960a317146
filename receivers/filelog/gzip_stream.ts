/**
 * Streaming decompression of a gzip file through its handle: the content is inflated a
 * compressed chunk at a time, so neither reading a large .gz nor fingerprinting one holds
 * the whole decompressed content in memory. A truncated tail (a file still being written)
 * ends the content without an error; concatenated gzip members are read in sequence.
 *
 * @module
 */

import { constants, createGunzip, type Gunzip } from "node:zlib";

/** Compressed bytes read per step: bounds the decompressed output of one step. */
const INPUT_CHUNK = 16 * 1024;

/** Reads the decompressed content of a gzip file from its start. */
export class GunzipReader {
  readonly #handle: Deno.FsFile;
  readonly #gz: Gunzip;
  readonly #queue: Uint8Array[] = [];
  #head = 0;
  #error: Error | undefined;
  #ended = false;
  #inputDone = false;
  #waiter: (() => void) | undefined;

  /** Starts at the beginning of `handle` (moves its position). */
  constructor(handle: Deno.FsFile) {
    this.#handle = handle;
    handle.seekSync(0, Deno.SeekMode.Start);
    this.#gz = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
    this.#gz.on("data", (c: Uint8Array) => this.#queue.push(c));
    this.#gz.on("error", (e: Error) => {
      this.#error = e;
      this.#wake();
    });
    this.#gz.on("end", () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Copies the next decompressed bytes into `into`; 0 at the end of the content. */
  async read(into: Uint8Array): Promise<number> {
    let n = 0;
    while (n < into.length) {
      const c = this.#queue[0];
      if (c === undefined) {
        if (n > 0 || this.#ended) break;
        await this.#step();
        continue;
      }
      const take = Math.min(c.length - this.#head, into.length - n);
      into.set(c.subarray(this.#head, this.#head + take), n);
      n += take;
      this.#head += take;
      if (this.#head === c.length) {
        this.#queue.shift();
        this.#head = 0;
      }
    }
    return n;
  }

  /** Discards up to `count` decompressed bytes; returns how many were discarded. */
  async skip(count: number): Promise<number> {
    const scratch = new Uint8Array(Math.min(count, 256 * 1024));
    let done = 0;
    while (done < count) {
      const r = await this.read(scratch.subarray(0, Math.min(scratch.length, count - done)));
      if (r === 0) break;
      done += r;
    }
    return done;
  }

  /** Feeds one compressed chunk (or the end of input) and waits for its output. */
  async #step(): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    if (this.#inputDone) {
      // Only 'end' or 'error' is left to come.
      await new Promise<void>((resolve) => this.#waiter = resolve);
    } else {
      const buf = new Uint8Array(INPUT_CHUNK);
      const r = await this.#handle.read(buf);
      const done = new Promise<void>((resolve) => this.#waiter = resolve);
      if (r === null || r === 0) {
        this.#inputDone = true;
        this.#gz.end();
      } else {
        this.#gz.write(buf.subarray(0, r), () => this.#wake());
      }
      await done;
    }
    if (this.#error !== undefined) throw this.#error;
  }

  /** Releases the decompressor (not the handle). */
  close(): void {
    this.#gz.removeAllListeners("data");
    this.#gz.on("error", () => {});
    this.#gz.destroy();
  }
}

/** The first `size` bytes of a gzip file's decompressed content (inflating only those). */
export async function gzipHead(handle: Deno.FsFile, size: number): Promise<Uint8Array> {
  const reader = new GunzipReader(handle);
  try {
    const buf = new Uint8Array(size);
    let n = 0;
    while (n < size) {
      const r = await reader.read(buf.subarray(n));
      if (r === 0) break;
      n += r;
    }
    return buf.slice(0, n);
  } finally {
    reader.close();
  }
}

/** Like {@linkcode gzipHead}, but empty when the content cannot be inflated. */
export async function gzipHeadOrEmpty(handle: Deno.FsFile, size: number): Promise<Uint8Array> {
  try {
    return await gzipHead(handle, size);
  } catch {
    return new Uint8Array();
  }
}
