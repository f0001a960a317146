/**
 * Reading one file: from its read position through the chunk loop (plain files with
 * synchronous reads for small increments, gzip files through a streaming inflater), the
 * header lines, the split into tokens, and the hand-off of each token as an entry. A poll
 * reads at most a budget of a plain file (see READ_BUDGET); the rest waits for the next.
 *
 * @module
 */

import { isUtf8 } from "node:buffer";
import { LoopTurns } from "../../core/async.ts";
import type { Logger } from "../../core/telemetry/logger.ts";
import { type Entry, newEntry, type ValueMap } from "../../pkg/stanza/entry.ts";
import { Pipeline } from "../../pkg/stanza/operator/registry.ts";
import type { LineLane, RawLine } from "../../pkg/stanza/raw_line.ts";
import type { FilelogConfig } from "./config.ts";
import { readHead, startsWith } from "./fingerprint.ts";
import { GunzipReader, gzipHeadOrEmpty } from "./gzip_stream.ts";
import type { Handles } from "./handles.ts";
import { Splitter, TokenDecoder } from "./split.ts";
import type { TrackedFile } from "./tracked_file.ts";

/** What the reader hands its tokens to. */
export interface TrackerOutput {
  /** One token as an entry (synchronous: the operator chain). */
  entry(e: Entry): void;
  /** Called after each chunk of a file; may wait for the consumer (backpressure). */
  chunkDone(): Promise<void>;
  /**
   * Takes a line straight from its bytes, or says false: hand it on as an entry (see
   * pkg/stanza/raw_line.ts). Used only when the receiver's config gives entries nothing beyond
   * the file's attributes.
   */
  readonly lineLane?: LineLane;
}

/** Counters the reader reports. */
export interface TrackerStats {
  invalidEncoding: number;
  cutTokens: number;
  unreadable: number;
  records: number;
}

const CHUNK = 1024 * 1024;
/**
 * Bytes read before the tokens are handed on and the consumer may be waited for: a batch
 * holds at most about this much beyond BATCH_RECORDS, which bounds what a crash re-sends.
 */
export const READ_CHUNK = 256 * 1024;
const HEADER_DECODER = new TextDecoder();
/** Largest expected read done with synchronous ops. */
const SYNC_READ_MAX = 256 * 1024;
/** Reading gives the event loop a turn at least this often (ms), between chunks. */
const LOOP_TURN_MS = 5;

/** Reads files for one receiver, handing their tokens on as entries. */
export class FileReader {
  readonly #cfg: FilelogConfig;
  readonly #log: Logger;
  readonly #out: TrackerOutput;
  readonly #handles: Handles;
  readonly #open: (path: string) => Deno.FsFile | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #splitter: Splitter;
  readonly #decoder: TokenDecoder;
  readonly #buf: Uint8Array;
  readonly #headerPipeline: Pipeline | undefined;
  #headerOut: Entry | undefined;
  #resource: ValueMap | undefined;
  /** The output's line lane, when this config allows it. */
  readonly #lineLane: LineLane | undefined;
  /** The line handed to the lane (reused for every line). */
  readonly #line: RawLine = {
    sourceId: 0,
    bytes: new Uint8Array(0),
    start: 0,
    end: 0,
    validText: false,
    attributes: {},
    observed: 0n,
  };
  readonly #turns = new LoopTurns(LOOP_TURN_MS);
  /** Observed time of the entries read now (Unix ns): set at each poll. */
  observed = 0n;
  /** Files read since the receiver last took them. */
  readonly touched = new Set<TrackedFile>();
  readonly stats: TrackerStats = { invalidEncoding: 0, cutTokens: 0, unreadable: 0, records: 0 };
  /** True when a read since `backlog` was reset stopped at its budget with data left. */
  backlog = false;

  /**
   * `open` opens a path (counted against max_concurrent_files); once `signal` aborts, reads
   * stop at the next chunk boundary.
   */
  constructor(
    cfg: FilelogConfig,
    log: Logger,
    out: TrackerOutput,
    handles: Handles,
    open: (path: string) => Deno.FsFile | undefined,
    signal: AbortSignal | undefined,
  ) {
    this.#cfg = cfg;
    this.#log = log;
    this.#out = out;
    this.#handles = handles;
    this.#open = open;
    this.#signal = signal;
    this.#splitter = new Splitter(cfg);
    if (cfg.header !== undefined) {
      this.#headerPipeline = new Pipeline(
        cfg.header.metadataOperators,
        { logger: log, countError: () => {} },
        (e) => this.#headerOut = e,
      );
    }
    this.#decoder = new TokenDecoder(cfg);
    const plainLines = this.#decoder.utf8 && cfg.header === undefined &&
      !cfg.includeFileRecordNumber && !cfg.includeFileRecordOffset &&
      Object.keys(cfg.attributes).length === 0 && Object.keys(cfg.resource).length === 0;
    this.#lineLane = plainLines ? out.lineLane : undefined;
    this.#buf = new Uint8Array(Math.max(CHUNK, cfg.maxLogSize + 64 * 1024));
    const res = Object.values(cfg.resource);
    if (res.every((t) => t.literal)) {
      this.#resource = {};
      for (const [k, t] of Object.entries(cfg.resource)) {
        this.#resource[k] = t.eval(undefined as never) ?? null;
      }
    }
  }

  /**
   * Reads a file from its offset to the end (a plain file: at most about `budget` bytes),
   * handing tokens on; `final` flushes a partial line.
   */
  async read(tf: TrackedFile, now: number, final: boolean, budget = Infinity): Promise<void> {
    if (tf.handle === undefined) {
      // Closed to respect max_concurrent_files: reopen, if the path still holds this content.
      const h = this.#open(tf.path);
      if (h === undefined) return;
      let head: Uint8Array;
      try {
        head = tf.gzip ? await gzipHeadOrEmpty(h, tf.fp.length) : readHead(h, tf.fp.length);
      } catch {
        head = new Uint8Array();
      }
      if (!startsWith(head, tf.fp)) {
        h.close();
        return;
      }
      tf.handle = h;
    }
    this.#handles.use(tf);
    const handle = tf.handle;
    if (this.#cfg.acquireFsLock && !this.#tryLock(tf, handle)) return;
    try {
      if (tf.gzip) await this.#readGzip(tf, now, final);
      else await this.#readPlain(tf, now, final, budget);
    } catch (err) {
      this.#log.warn("Read failed; will retry next poll", { path: tf.path, error: err });
      tf.lastSize = -1; // not "unchanged" next poll: read again from readOffset
    } finally {
      if (this.#cfg.acquireFsLock) {
        try {
          handle.unlockSync();
        } catch {
          // Closed meanwhile: the lock went with the handle.
        }
      }
    }
  }

  /** acquire_fs_lock: a shared advisory lock for the read, as upstream; false = skip for now. */
  #tryLock(tf: TrackedFile, handle: Deno.FsFile): boolean {
    try {
      if (handle.tryLockSync(false)) return true;
      this.#log.debug("File is locked by another process; reading it later", { path: tf.path });
    } catch (err) {
      this.#log.error("Failed to lock", { path: tf.path, error: err });
    }
    return false;
  }

  async #readPlain(tf: TrackedFile, now: number, final: boolean, budget: number): Promise<void> {
    const h = tf.handle!;
    const pos = tf.readOffset;
    // Small increments (the steady state) are read synchronously: ~1µs per op against ~50µs
    // for the async op. A backlog goes through the async op so the event loop keeps turning.
    const sync = tf.lastSize >= 0 && tf.lastSize - pos <= SYNC_READ_MAX;
    h.seekSync(pos, Deno.SeekMode.Start);
    await this.#readChunks(
      tf,
      now,
      final,
      pos,
      sync ? (b) => h.readSync(b) ?? 0 : async (b) => (await h.read(b)) ?? 0,
      budget,
    );
  }

  /**
   * The chunk loop shared by plain and gzip files: fills the buffer from `read` (content
   * position `pos` onwards), hands complete tokens on, and waits for the consumer after
   * each chunk; stops after the chunk that used up `budget` (the rest waits for the next poll).
   */
  async #readChunks(
    tf: TrackedFile,
    now: number,
    final: boolean,
    start: number,
    read: (into: Uint8Array) => number | Promise<number>,
    budget = Infinity,
  ): Promise<void> {
    const buf = this.#buf;
    let pos = start;
    let filled = 0;
    for (;;) {
      let eof = false;
      const want = Math.min(buf.length, filled + READ_CHUNK);
      while (filled < want) {
        const got = read(buf.subarray(filled, want));
        const r = typeof got === "number" ? got : await got;
        if (r === 0) {
          eof = true;
          break;
        }
        filled += r;
      }
      if (filled === 0) break;
      let head = 0;
      if (!tf.headerDone) {
        head = this.#consumeHeader(tf, buf, filled, pos);
        // A line longer than the buffer is not a header line.
        if (!tf.headerDone && head === 0 && filled === buf.length) tf.headerDone = true;
        if (!tf.headerDone) {
          // Only header lines so far: wait for the rest (never force-flushed, as upstream).
          buf.copyWithin(0, head, filled);
          pos += head;
          filled -= head;
          if (head > 0) this.touched.add(tf);
          if (eof) return;
          continue;
        }
      }
      const used = head + this.#split(tf, buf.subarray(head), filled - head, pos + head, false);
      if (used > 0) {
        buf.copyWithin(0, used, filled);
        pos += used;
        filled -= used;
        this.touched.add(tf);
        await this.#out.chunkDone();
        await this.#turns.pause();
        // Shutting down: stop here; the position is after the last token handed on.
        if (this.#signal?.aborted) return;
        if (pos - start >= budget && !eof) {
          this.backlog = true;
          return;
        }
      }
      // A token longer than what was read so far: read more (a full buffer always holds one).
      if (eof || (used === 0 && filled === buf.length)) break;
    }
    this.#flushState(tf, buf, filled, pos, now, final);
  }

  /**
   * `header`: feeds the complete lines at the start of buf[0, filled) (file position
   * `base`) that match header.pattern to the metadata pipeline, keeping the attributes it
   * sets; the first other line ends the header. Returns the bytes used.
   */
  #consumeHeader(tf: TrackedFile, buf: Uint8Array, filled: number, base: number): number {
    const pattern = this.#cfg.header!.pattern;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0 || nl >= filled) return start;
      let end = nl;
      if (end > start && buf[end - 1] === 0x0d) end--;
      const line = HEADER_DECODER.decode(buf.subarray(start, end));
      if (!pattern.test(line)) {
        tf.headerDone = true;
        tf.dirty = true;
        return start;
      }
      this.#headerOut = undefined;
      this.#headerPipeline!.process(newEntry(line, this.observed));
      const out = this.#headerOut as Entry | undefined;
      if (out !== undefined) {
        tf.headerAttrs ??= {};
        for (const [k, v] of Object.entries(out.attributes)) tf.attrs[k] = tf.headerAttrs[k] = v;
      }
      tf.dirty = true;
      start = nl + 1;
      tf.readOffset = base + start;
    }
  }

  /** Streams the decompressed content through the chunk loop from readOffset. */
  async #readGzip(tf: TrackedFile, now: number, final: boolean): Promise<void> {
    const reader = new GunzipReader(tf.handle!);
    try {
      const pos = tf.readOffset;
      if (await reader.skip(pos) < pos) {
        // Shorter than what was read already (still being written): nothing new yet.
        this.#flushState(tf, this.#buf, 0, pos, now, final);
        return;
      }
      await this.#readChunks(tf, now, final, pos, (b) => reader.read(b));
    } finally {
      reader.close();
    }
  }

  /** Decides whether a partial token at EOF is emitted now (force_flush_period). */
  #flushState(
    tf: TrackedFile,
    buf: Uint8Array,
    filled: number,
    pos: number,
    now: number,
    final: boolean,
  ): void {
    if (filled === 0) {
      tf.pendingSince = undefined;
      return;
    }
    const size = pos + filled;
    const period = this.#cfg.forceFlushPeriodMs;
    const due = tf.pendingSince !== undefined && tf.pendingOffset === pos &&
      tf.pendingSize === size &&
      period > 0 && now - tf.pendingSince >= period;
    if (final || due) {
      this.#split(tf, buf, filled, pos, true);
      this.touched.add(tf);
      tf.pendingSince = undefined;
      // chunkDone is awaited by the next read or the end of the poll.
      return;
    }
    if (tf.pendingOffset !== pos || tf.pendingSize !== size || tf.pendingSince === undefined) {
      tf.pendingOffset = pos;
      tf.pendingSize = size;
      tf.pendingSince = now;
    }
  }

  /** Splits buf[0, filled) (file position `base`) into entries; returns bytes used. */
  #split(tf: TrackedFile, buf: Uint8Array, filled: number, base: number, flush: boolean): number {
    let tokStart = 0;
    const truncate = this.#cfg.maxLogSizeBehavior === "truncate";
    // One check of the whole chunk (fast, native) spares the lane one per line; a chunk that
    // ends inside a character fails it, and its lines are checked one by one.
    if (this.#lineLane !== undefined) this.#line.validText = isUtf8(buf.subarray(0, filled));
    const used = this.#splitter.split(buf, 0, filled, flush, (s, e, next, cut) => {
      const start = base + tokStart;
      tokStart = next;
      const recordNum = tf.recordNum;
      if (tf.skipping) {
        // Rest of a truncated line: drop through its newline.
        if (!cut) tf.skipping = false;
      } else {
        // Emit first: if it throws, the position stays before this token, which the next
        // read starts from (nothing is skipped).
        if (e > s) this.#emitToken(tf, buf, s, e, start, recordNum); // empty lines are not records
        if (cut) {
          this.stats.cutTokens++;
          if (truncate) tf.skipping = true;
        }
      }
      tf.recordNum = recordNum + 1;
      tf.readOffset = base + next;
    });
    return used;
  }

  #emitToken(
    tf: TrackedFile,
    buf: Uint8Array,
    s: number,
    e: number,
    start: number,
    recordNum: number,
  ): void {
    if (this.#lineLane !== undefined) {
      const line = this.#line;
      line.sourceId = tf.id;
      line.bytes = buf;
      line.start = s;
      line.end = e;
      line.attributes = tf.attrs;
      line.observed = this.observed;
      if (this.#lineLane(line)) {
        this.stats.records++;
        return;
      }
    }
    const d = this.#decoder.decode(buf, s, e);
    if (d.replaced) this.stats.invalidEncoding++;
    const attrs: ValueMap = { ...tf.attrs };
    const cfg = this.#cfg;
    if (cfg.includeFileRecordNumber) attrs["log.file.record_number"] = BigInt(recordNum + 1);
    if (cfg.includeFileRecordOffset) attrs["log.file.record_offset"] = BigInt(start);
    const entry: Entry = {
      body: d.body,
      attributes: attrs,
      resource: this.#resource ?? {},
      resourceShared: this.#resource !== undefined,
      timestamp: 0n,
      observed: this.observed,
      severity: 0,
      severityText: "",
      src: { sourceId: tf.id, seq: start, position: recordNum },
    };
    for (const k in cfg.attributes) attrs[k] = cfg.attributes[k]!.eval(entry) ?? null;
    if (this.#resource === undefined) {
      for (const k in cfg.resource) entry.resource[k] = cfg.resource[k]!.eval(entry) ?? null;
    }
    this.stats.records++;
    this.#out.entry(entry);
  }
}

/** True when a plain file has bytes past the read position as of its last stat. */
export function unreadData(tf: TrackedFile): boolean {
  return !tf.gzip && tf.lastSize >= 0 && tf.readOffset < tf.lastSize;
}
