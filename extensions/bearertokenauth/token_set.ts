/**
 * The set of header values a server accepts, compared in constant time: each value is kept
 * only as its SHA-256 digest, the presented value is hashed the same way, and the digests
 * (always 32 bytes, so lengths leak nothing) are compared with `timingSafeEqual` against
 * every accepted value, without stopping at a match.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

/** Compares two equal-length digests; `timingSafeEqual` unless a test counts the calls. */
export type DigestEqual = (a: Uint8Array, b: Uint8Array) => boolean;

function digest(value: string): Uint8Array {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Accepted header values (e.g. `Bearer <token>`), matched in constant time. */
export class TokenSet {
  readonly #digests: readonly Uint8Array[];
  readonly #equal: DigestEqual;

  /** Keeps the digests of `values`; `equal` is for tests. */
  constructor(values: readonly string[], equal: DigestEqual = timingSafeEqual) {
    this.#digests = values.map(digest);
    this.#equal = equal;
  }

  /** How many values are accepted. */
  get size(): number {
    return this.#digests.length;
  }

  /** True when `presented` is one of the accepted values. */
  has(presented: string): boolean {
    const d = digest(presented);
    let found = false;
    for (const accepted of this.#digests) {
      // No early exit: the time taken does not depend on which value matched.
      if (this.#equal(d, accepted)) found = true;
    }
    return found;
  }
}
