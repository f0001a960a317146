/**
 * Byte-array helpers shared by the HTTP body readers, the exporter's compression and tests.
 *
 * @module
 */

/** The bytes of all `chunks` together. */
export function totalLength(chunks: readonly Uint8Array[]): number {
  let total = 0;
  for (const c of chunks) total += c.length;
  return total;
}

/**
 * Joins `chunks` into one array. A single chunk is returned as it is (no copy), so the caller
 * must own the chunks it passes.
 */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(totalLength(chunks));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
