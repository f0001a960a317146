/**
 * The state kept for one file: identity (fingerprint), read and acknowledged positions,
 * the open handle, and the partial-line flush state.
 *
 * @module
 */

import type { AckSource } from "../../pkg/stanza/adapter/receiver_adapter.ts";
import type { EntrySource, ValueMap } from "../../pkg/stanza/entry.ts";

let nextId = 1;

/**
 * A file position: a byte offset and the number of records before it. An entry's source
 * carries it as `seq` (the offset of its first token) and `position` (its record number).
 */
export interface FileMark {
  readonly offset: number;
  readonly recordNum: number;
}

/** One file the receiver knows. */
export class TrackedFile implements AckSource<FileMark> {
  /** Identity for the receiver's lifetime (entries point at it). */
  readonly id: number = nextId++;
  /** The first bytes of the content (grows up to fingerprint_size). */
  fp: Uint8Array;
  /** Path where the file was first seen: its attributes and sibling search use it. */
  readonly origPath: string;
  /** Path it was last seen at. */
  path: string;
  attrs: ValueMap;
  /** True once `attrs` match the current config (false for states from a checkpoint). */
  attrsFresh: boolean;
  /** Next byte to read; everything before is in the operator chain or delivered. */
  readOffset: number;
  recordNum: number;
  /** Position whose data the consumer accepted: what checkpoints store. */
  ackOffset: number;
  ackRecordNum: number;
  gzip = false;
  dev: number | undefined;
  ino: number | undefined;
  lastSize = -1;
  lastMtime = -1;
  handle: Deno.FsFile | undefined;
  /** Partial data at EOF: where it starts, the file size when seen, since when unchanged. */
  pendingOffset = -1;
  pendingSize = -1;
  pendingSince: number | undefined;
  /** Dropping the rest of a line cut by max_log_size_behavior: truncate. */
  skipping = false;
  /** The poll that last found the file at a matched path. */
  claimedIn = 0;
  /** Polls since the file was last matched at a path (0 = seen in the latest poll). */
  lostPolls = 0;
  /** A sibling search was already done for this loss. */
  searched = false;
  /** `header`: false while leading header lines may still come. */
  headerDone = true;
  /** Attributes the header lines gave (kept when `attrs` are recomputed). */
  headerAttrs: ValueMap | undefined;
  /** The checkpoint line is stale. */
  dirty = true;
  encoded = "";

  constructor(fp: Uint8Array, path: string, attrs: ValueMap, offset: number, recordNum = 0) {
    this.fp = fp;
    this.origPath = path;
    this.path = path;
    this.attrs = attrs;
    this.attrsFresh = true;
    this.readOffset = offset;
    this.ackOffset = offset;
    this.recordNum = recordNum;
    this.ackRecordNum = recordNum;
  }

  /** Where a checkpoint may go once what was read is accepted (before `held`, if set). */
  mark(held: EntrySource | undefined): FileMark {
    // A held entry past the read position predates a truncation: the file starts over.
    if (held !== undefined && held.seq < this.readOffset) {
      return { offset: held.seq, recordNum: held.position as number };
    }
    return { offset: this.readOffset, recordNum: this.recordNum };
  }

  /** The data before `m` was accepted: checkpoints may store it. */
  ack(m: FileMark): void {
    if (this.ackOffset === m.offset && this.ackRecordNum === m.recordNum) return;
    this.ackOffset = m.offset;
    this.ackRecordNum = m.recordNum;
    this.dirty = true;
  }

  /** Closes the handle, ignoring errors. */
  close(): void {
    if (this.handle !== undefined) {
      try {
        this.handle.close();
      } catch {
        // Already closed.
      }
      this.handle = undefined;
    }
  }
}

/** The files found at a matched path during one poll: a stamp on each file, not a set. */
export class Claims {
  readonly #poll: number;
  /** Claims of poll number `poll`. */
  constructor(poll: number) {
    this.#poll = poll;
  }
  /** True when `tf` was found in this poll. */
  has(tf: TrackedFile): boolean {
    return tf.claimedIn === this.#poll;
  }
  /** Marks `tf` as found in this poll. */
  add(tf: TrackedFile): void {
    tf.claimedIn = this.#poll;
  }
}
