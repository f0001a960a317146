/**
 * File identity by fingerprint: the first `fingerprint_size` bytes of the (decompressed)
 * content, matched by prefix so a growing file keeps its identity. The index keeps files
 * by fingerprint length and a hash of the whole fingerprint; one pass over a new head gives
 * the hash of each of its prefixes, so a lookup costs the head's length plus the number of
 * distinct lengths, however many files share a prefix (CRI lines all begin with a
 * timestamp, docker's with `{"log":"`).
 *
 * @module
 */

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

/**
 * Reads up to `size` bytes from the start of an open file. Synchronous: a small read of a
 * local file costs ~1µs this way against ~50µs through the async op's thread hand-off, and
 * it runs for every changed file on every poll.
 */
export function readHead(file: Deno.FsFile, size: number): Uint8Array {
  const buf = new Uint8Array(size);
  file.seekSync(0, Deno.SeekMode.Start);
  let n = 0;
  while (n < size) {
    const r = file.readSync(buf.subarray(n));
    if (r === null || r === 0) break;
    n += r;
  }
  return buf.slice(0, n);
}

/** FNV-1a hashes of every prefix of `bytes`: out[n] hashes bytes[0, n). */
function prefixHashes(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(bytes.length + 1);
  let h = 0x811c9dc5;
  out[0] = h;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
    out[i + 1] = h;
  }
  return out;
}

/** Something with a fingerprint. */
export interface HasFingerprint {
  fp: Uint8Array;
}

/** Finds known files whose fingerprint is a prefix of a new one. */
export class FingerprintIndex<T extends HasFingerprint> {
  /** Items by fingerprint length, then by the hash of the whole fingerprint. */
  readonly #byLength = new Map<number, Map<number, T[]>>();
  /** The lengths present, longest first. */
  #lengths: number[] = [];
  readonly #keys = new Map<T, { length: number; hash: number }>();

  /** Adds (or re-indexes after its fingerprint grew) an item. */
  set(item: T): void {
    this.delete(item);
    const length = item.fp.length;
    const hash = prefixHashes(item.fp)[length]!;
    let byHash = this.#byLength.get(length);
    if (byHash === undefined) {
      this.#byLength.set(length, byHash = new Map());
      this.#lengths.push(length);
      this.#lengths.sort((a, b) => b - a);
    }
    const bucket = byHash.get(hash);
    if (bucket === undefined) byHash.set(hash, [item]);
    else bucket.push(item);
    this.#keys.set(item, { length, hash });
  }

  /** Removes an item. */
  delete(item: T): void {
    const k = this.#keys.get(item);
    if (k === undefined) return;
    this.#keys.delete(item);
    const byHash = this.#byLength.get(k.length)!;
    const bucket = byHash.get(k.hash)!.filter((x) => x !== item);
    if (bucket.length > 0) {
      byHash.set(k.hash, bucket);
      return;
    }
    byHash.delete(k.hash);
    if (byHash.size > 0) return;
    this.#byLength.delete(k.length);
    this.#lengths = this.#lengths.filter((l) => l !== k.length);
  }

  /** The best (longest-fingerprint) item matching `fp` that `accept` allows. */
  find(fp: Uint8Array, accept: (item: T) => boolean): T | undefined {
    if (this.#keys.size === 0) return undefined;
    const hashes = prefixHashes(fp);
    for (const length of this.#lengths) {
      if (length > fp.length || length === 0) continue;
      const bucket = this.#byLength.get(length)!.get(hashes[length]!);
      if (bucket === undefined) continue;
      for (const item of bucket) if (startsWith(fp, item.fp) && accept(item)) return item;
    }
    return undefined;
  }

  /** Number of indexed items. */
  get size(): number {
    return this.#keys.size;
  }
}
