/**
 * Byte-array helpers shared by the HTTP body readers, the exporter's compression and tests.
 *
 * @module
 */

/**
 * Joins `chunks` into one array. A single chunk is returned as it is (no copy), so the caller
 * must own the chunks it passes.
 */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
