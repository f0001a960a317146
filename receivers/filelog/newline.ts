/**
 * Finds line feeds four bytes at a time: a 32-bit word holds one exactly when its bytes XOR 0x0a
 * have a zero byte, which a few arithmetic operations tell. About twice as fast as
 * `Uint8Array.prototype.indexOf` on log lines (the scan is a quarter of filelog's time per line).
 *
 * @module
 */

const LF4 = 0x0a0a0a0a;

/** Scans buffers for `\n`; keeps a word view of the last buffer it was given. */
export class NewlineScanner {
  #words: Uint32Array = new Uint32Array(0);
  #wordsOf: ArrayBufferLike | undefined;

  /** Where the first `\n` of `d[from, end)` is, or -1. */
  find(d: Uint8Array, from: number, end: number): number {
    const off = d.byteOffset;
    let i = from;
    while (i < end && ((off + i) & 3) !== 0) {
      if (d[i] === 0x0a) return i;
      i++;
    }
    const words = this.#wordsFor(d.buffer);
    for (; i + 4 <= end; i += 4) {
      const v = words[(off + i) >>> 2]! ^ LF4;
      if (((v - 0x01010101) & ~v & 0x80808080) !== 0) break; // a byte of it is 0x0a
    }
    for (; i < end; i++) if (d[i] === 0x0a) return i;
    return -1;
  }

  #wordsFor(buffer: ArrayBufferLike): Uint32Array {
    if (buffer !== this.#wordsOf) {
      this.#words = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
      this.#wordsOf = buffer;
    }
    return this.#words;
  }
}
