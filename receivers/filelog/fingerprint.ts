/**
 * File identity by fingerprint: the first `fingerprint_size` bytes of the (decompressed)
 * content, matched by prefix so a growing file keeps its identity. The index finds
 * candidates by their first 16 bytes, so matching stays cheap with many files.
 *
 * @module
 */

import { gunzipSync } from "node:zlib";

/** Bytes used as the index key (upstream's minimum fingerprint size). */
const KEY_BYTES = 16;

/** True when `fp` begins with `prefix` (and `prefix` is not empty). */
export function startsWith(fp: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length === 0 || prefix.length > fp.length) return false;
  for (let i = 0; i < prefix.length; i++) if (fp[i] !== prefix[i]) return false;
  return true;
}

/** True when the content starts with the gzip magic bytes. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Decompresses a whole gzip file, tolerating a truncated (still written) tail. */
export function gunzip(data: Uint8Array): Uint8Array {
  const out = gunzipSync(data, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Reads up to `size` bytes from the start of an open file. */
export async function readHead(file: Deno.FsFile, size: number): Promise<Uint8Array> {
  const buf = new Uint8Array(size);
  await file.seek(0, Deno.SeekMode.Start);
  let n = 0;
  while (n < size) {
    const r = await file.read(buf.subarray(n));
    if (r === null || r === 0) break;
    n += r;
  }
  return buf.slice(0, n);
}

function keyOf(fp: Uint8Array): string {
  let s = "";
  for (let i = 0; i < KEY_BYTES; i++) s += String.fromCharCode(fp[i]!);
  return s;
}

/** Something with a fingerprint. */
export interface HasFingerprint {
  fp: Uint8Array;
}

/** Finds known files whose fingerprint is a prefix of a new one. */
export class FingerprintIndex<T extends HasFingerprint> {
  readonly #byKey = new Map<string, Set<T>>();
  readonly #short = new Set<T>();
  readonly #keys = new Map<T, string | undefined>();

  /** Adds (or re-indexes after its fingerprint grew) an item. */
  set(item: T): void {
    this.delete(item);
    if (item.fp.length < KEY_BYTES) {
      this.#short.add(item);
      this.#keys.set(item, undefined);
      return;
    }
    const key = keyOf(item.fp);
    let set = this.#byKey.get(key);
    if (set === undefined) this.#byKey.set(key, set = new Set());
    set.add(item);
    this.#keys.set(item, key);
  }

  /** Removes an item. */
  delete(item: T): void {
    if (!this.#keys.has(item)) return;
    const key = this.#keys.get(item);
    this.#keys.delete(item);
    if (key === undefined) this.#short.delete(item);
    else {
      const set = this.#byKey.get(key)!;
      set.delete(item);
      if (set.size === 0) this.#byKey.delete(key);
    }
  }

  /** The best (longest-fingerprint) item matching `fp` that `accept` allows. */
  find(fp: Uint8Array, accept: (item: T) => boolean): T | undefined {
    let best: T | undefined;
    const consider = (item: T): void => {
      if (
        startsWith(fp, item.fp) && accept(item) &&
        (best === undefined || item.fp.length > best.fp.length)
      ) {
        best = item;
      }
    };
    if (fp.length >= KEY_BYTES) {
      for (const item of this.#byKey.get(keyOf(fp)) ?? []) consider(item);
    }
    for (const item of this.#short) consider(item);
    return best;
  }

  /** Number of indexed items. */
  get size(): number {
    return this.#keys.size;
  }
}
