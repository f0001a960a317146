/**
 * The open file handles of one receiver: kept in least-recently-read order and closed
 * beyond `max_concurrent_files` (files lost from their path keep theirs: they need it to
 * drain); running out of file descriptors (EMFILE/ENFILE) sheds idle handles and leaves
 * the path for the next poll.
 *
 * @module
 */

import type { Logger } from "../../core/telemetry/logger.ts";
import type { TrackedFile } from "./tracked_file.ts";

/** Open handles, max_concurrent_files and EMFILE handling. */
export class Handles {
  readonly #max: number;
  readonly #log: Logger;
  readonly #denied: (path: string, what: string) => void;
  /** Open handles in least-recently-read order. */
  readonly #open = new Map<TrackedFile, true>();
  #fdWarned = false;
  /** Paths that could not be opened for lack of file descriptors: checked again next poll. */
  readonly retryOpen = new Set<string>();

  /** `denied` reports a path that cannot be read for lack of permission. */
  constructor(
    maxConcurrentFiles: number,
    log: Logger,
    denied: (path: string, what: string) => void,
  ) {
    this.#max = maxConcurrentFiles;
    this.#log = log;
    this.#denied = denied;
  }

  /** Number of open handles. */
  get size(): number {
    return this.#open.size;
  }

  /** A new poll: running out of descriptors is logged once per poll. */
  beginPoll(): void {
    this.#fdWarned = false;
  }

  /** Notes that `tf`'s handle was just used (it is closed last). */
  use(tf: TrackedFile): void {
    this.#open.delete(tf);
    this.#open.set(tf, true);
  }

  /** Closes `tf`'s handle. */
  close(tf: TrackedFile): void {
    tf.close();
    this.#open.delete(tf);
  }

  /** Forgets every handle (their files were closed). */
  clear(): void {
    this.#open.clear();
  }

  /**
   * Opens a file for reading; undefined when it cannot be. Too many open files
   * (EMFILE/ENFILE) is logged once per poll; idle handles are closed and the open is tried
   * once more, then the path is left for the next poll (in `retryOpen`).
   */
  open(path: string): Deno.FsFile | undefined {
    this.trim(this.#max - 1); // room for this one
    try {
      return Deno.openSync(path, { read: true });
    } catch (err) {
      if (!isTooManyOpen(err)) {
        if (isDenied(err)) this.#denied(path, "file");
        return undefined;
      }
      if (!this.#fdWarned) {
        this.#fdWarned = true;
        this.#log.error(
          "Too many open files; closing idle files and retrying the rest next poll. " +
            "Lower max_concurrent_files or raise the open-file limit (ulimit -n)",
          { path, max_concurrent_files: this.#max, error: err },
        );
      }
    }
    this.#shed();
    try {
      return Deno.openSync(path, { read: true });
    } catch {
      this.retryOpen.add(path);
      return undefined;
    }
  }

  /** Closes the least recently read half of the handles (lost files keep theirs). */
  #shed(): void {
    let n = Math.max(1, Math.floor(this.#open.size / 2));
    for (const tf of [...this.#open.keys()]) {
      if (n <= 0) break;
      if (tf.lostPolls > 0) continue;
      tf.close();
      this.#open.delete(tf);
      n--;
    }
  }

  /** Closes the least recently read handles above `max` (lost files keep theirs). */
  trim(max: number = this.#max): void {
    if (this.#open.size <= max) return;
    for (const tf of this.#open.keys()) {
      if (this.#open.size <= max) break;
      if (tf.lostPolls > 0) continue; // lost files need their handle to drain
      tf.close();
      this.#open.delete(tf);
    }
  }
}

/** True when the process or system is out of file descriptors. */
export function isTooManyOpen(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}

/** True for EACCES and for a read the Deno permission sandbox refused. */
export function isDenied(err: unknown): boolean {
  return err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable;
}
