/**
 * Request body compression for `Content-Encoding`: gzip, zstd, zlib/deflate (zlib-format
 * data, RFC 1950, as upstream) or none. Bodies of at least {@linkcode OFF_THREAD_BYTES} are
 * compressed in a worker, so a large batch never stalls the event loop (gzip level 6 on a
 * 2 MB batch is tens of milliseconds; the audit agent's 50 MB batches would be seconds).
 *
 * node:zlib's callback API does not help in Deno 2.9: it runs the same work on the main
 * thread (in microtask-sized steps that never let timers or I/O in), so off-thread means a
 * Worker here. The worker's module is a `data:` URL built from {@linkcode compress} itself:
 * loading a module file would need `--allow-read` on the source tree (or on a compiled
 * binary's embedded files), which the deployment profiles' narrow allow-lists do not grant.
 *
 * @module
 */

import zlib from "node:zlib";
import { LoopTurns } from "../../core/async.ts";
import { concatBytes } from "../../core/bytes.ts";

/** A `compression` setting. */
export type Compression = "gzip" | "zstd" | "zlib" | "deflate" | "none";

/**
 * zstd level when `compression_params::level` is unset. Upstream passes -1, which its zstd
 * library (klauspost, `EncoderLevelFromZstd`) turns into SpeedFastest, its level-1 setting;
 * the native zstd library's own default would be 3.
 */
export const ZSTD_DEFAULT_LEVEL = 1;

/** Bodies at least this large are compressed in a worker; smaller ones on the caller's thread. */
export const OFF_THREAD_BYTES = 64 * 1024;

/** Making the parts of a body gives the event loop a turn at least this often (ms). */
const LOOP_TURN_MS = 5;

/** Size of the buffers {@linkcode Compressor.partBuffer} hands out. */
export const PART_BYTES = 256 * 1024;
/**
 * The worker ends after this long without a job, and starts again with the next large body:
 * an idle node gives back its isolate and part buffers (about 10 MiB of RSS).
 */
export const WORKER_IDLE_MS = 30_000;
/**
 * Part buffers kept for reuse. The worker hands each back once its body is compressed: a fresh
 * buffer per part would cost the main thread a page fault per 4 KiB it writes.
 */
const SPARE_PARTS = 16;

/** Compresses `body` on the calling thread. */
export function compress(
  body: Uint8Array,
  kind: Compression,
  level: number | undefined,
): Uint8Array {
  if (kind === "none") return body;
  const deflateOptions = level === undefined ? {} : { level };
  const out = kind === "gzip"
    ? zlib.gzipSync(body, deflateOptions)
    : kind === "zstd"
    ? zlib.zstdCompressSync(body, {
      params: { [zlib.constants.ZSTD_c_compressionLevel]: level ?? ZSTD_DEFAULT_LEVEL },
    })
    : zlib.deflateSync(body, deflateOptions);
  // A plain view of the Buffer's bytes, without copying them.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * The worker: compresses each body it is sent and hands the result back without copying it.
 * `compress` is the function above, as Deno transpiled it (it names only `zlib` and
 * `ZSTD_DEFAULT_LEVEL`, defined here too).
 */
const WORKER_SOURCE = `
import zlib from "node:zlib";
const ZSTD_DEFAULT_LEVEL = ${ZSTD_DEFAULT_LEVEL};
const PART_BYTES = ${PART_BYTES};
const compress = ${compress.toString()};
const streams = new Map();
function reply(id, out) {
  // zlib may return a view into a larger or shared buffer: transfer only a buffer of its own.
  if (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength) out = out.slice();
  self.postMessage({ id, out }, [out.buffer]);
}
function fail(id, err) {
  streams.delete(id);
  self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
}
// A body sent in parts is compressed as one stream while the parts arrive.
function open(id, kind, level) {
  const chunkSize = 64 * 1024;
  const z = kind === "gzip"
    ? zlib.createGzip(level === undefined ? { chunkSize } : { chunkSize, level })
    : kind === "zstd"
    ? zlib.createZstdCompress({
      chunkSize,
      params: { [zlib.constants.ZSTD_c_compressionLevel]: level ?? ZSTD_DEFAULT_LEVEL },
    })
    : zlib.createDeflate(level === undefined ? { chunkSize } : { chunkSize, level });
  // The parts' buffers go back with the result, for the next body's parts.
  const s = { z, out: [], bytes: 0, spent: [] };
  z.on("data", (c) => {
    s.out.push(c);
    s.bytes += c.length;
  });
  z.on("error", (err) => fail(id, err));
  z.on("end", () => {
    streams.delete(id);
    const out = new Uint8Array(s.bytes);
    let off = 0;
    for (const c of s.out) {
      out.set(c, off);
      off += c.length;
    }
    self.postMessage({ id, out, spent: s.spent }, [out.buffer, ...s.spent]);
  });
  streams.set(id, s);
  return s;
}
self.onmessage = (e) => {
  const { id, body, kind, level, part } = e.data;
  try {
    if (part === undefined) return reply(id, compress(body, kind, level));
    const s = streams.get(id) ?? open(id, kind, level);
    if (body.length > 0) s.z.write(body);
    if (body.buffer.byteLength === PART_BYTES) s.spent.push(body.buffer);
    if (part === "last") s.z.end();
  } catch (err) {
    fail(id, err);
  }
};
// Jobs are handed over only after this: a worker that cannot load never receives one.
self.postMessage("ready");
`;

/** A request to the worker. */
interface CompressJob {
  id: number;
  body: Uint8Array;
  kind: Compression;
  level: number | undefined;
  /** For a body sent in parts: whether this is a middle or the last one. */
  part?: "more" | "last";
}

/** The worker's answer (`spent`: the buffers of a body sent in parts). */
type CompressReply =
  | { id: number; out: Uint8Array; spent?: ArrayBuffer[] }
  | { id: number; error: string };

interface Waiter {
  resolve(out: Uint8Array): void;
  reject(err: Error): void;
}

interface Queued extends Waiter {
  body: Uint8Array;
}

/**
 * A worker that compresses large bodies, started on first use and shared by every caller of
 * one exporter, ended after {@linkcode WORKER_IDLE_MS} without a job; jobs queue in the worker
 * in order. Jobs are handed over only once the worker said it runs: if it cannot start, the
 * jobs still here are compressed on this thread, as is everything later, and no request fails
 * for it.
 */
export class Compressor {
  readonly #kind: Compression;
  readonly #level: number | undefined;
  readonly #workerUrl: URL;
  #worker: Worker | undefined;
  #ready = false;
  /** The worker failed: compress here from now on. */
  #broken = false;
  #next = 0;
  /** Jobs waiting for the worker to start. */
  #queued: Queued[] = [];
  /** Jobs in the worker, by id. */
  #waiting = new Map<number, Waiter>();
  /** Part buffers back from the worker. */
  #spare: ArrayBuffer[] = [];
  readonly #idleMs: number;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /** A compressor for one `compression` setting (`workerUrl`, `idleMs`: for tests). */
  constructor(
    kind: Compression,
    level: number | undefined,
    workerUrl = new URL(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`),
    idleMs = WORKER_IDLE_MS,
  ) {
    this.#kind = kind;
    this.#level = level;
    this.#workerUrl = workerUrl;
    this.#idleMs = idleMs;
  }

  /**
   * Compresses `body`: in the worker when it is large, else here. The caller must not use
   * `body`, nor any other view of its buffer, afterwards: the whole buffer moves to the
   * worker (no copy).
   */
  compress(body: Uint8Array): Promise<Uint8Array> {
    if (this.#kind === "none") return Promise.resolve(body);
    if (body.length < OFF_THREAD_BYTES || this.#broken) return this.#here(body);
    this.#worker ??= this.#start();
    return new Promise<Uint8Array>((resolve, reject) => {
      if (this.#ready) this.#post(body, { resolve, reject });
      else this.#queued.push({ body, resolve, reject });
    });
  }

  /**
   * Compresses the concatenation of `parts` into one stream (one gzip member, as
   * {@linkcode compress} would). Once the worker runs and the parts pass
   * {@linkcode OFF_THREAD_BYTES}, each part goes to the worker as soon as the iterator produced
   * it, so the worker compresses while the caller makes the next part. Parts move to the worker
   * as bodies do in {@linkcode compress}; an error the iterator throws is rethrown as is.
   */
  async compressParts(parts: Iterable<Uint8Array>): Promise<Uint8Array> {
    const it = parts[Symbol.iterator]();
    const head: Uint8Array[] = [];
    let bytes = 0;
    let done = false;
    while (bytes < OFF_THREAD_BYTES) {
      const step = it.next();
      if (step.done) {
        done = true;
        break;
      }
      head.push(step.value);
      bytes += step.value.length;
    }
    if (done || this.#kind === "none" || !this.#ready || this.#broken) {
      if (!done) { for (let step = it.next(); !step.done; step = it.next()) head.push(step.value); }
      return await this.compress(concatBytes(head));
    }
    const id = this.#next++;
    const result = new Promise<Uint8Array>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
    });
    result.catch(() => {}); // awaited below; an early failure must not go unhandled meanwhile
    try {
      for (const part of head) this.#postPart(id, part, "more");
      // Making a part (a copy, an encode) takes time: a large body lets the loop turn meanwhile.
      const turns = new LoopTurns(LOOP_TURN_MS);
      for (let step = it.next(); !step.done; step = it.next()) {
        if (!this.#waiting.has(id)) break; // the worker failed: the result says why
        this.#postPart(id, step.value, "more");
        await turns.pause();
      }
    } catch (err) {
      // The iterator failed: end the stream in the worker and drop its result.
      this.#waiting.delete(id);
      this.#worker?.postMessage({ id, body: new Uint8Array(0), kind: this.#kind, part: "last" });
      throw err;
    }
    if (this.#waiting.has(id)) this.#postPart(id, new Uint8Array(0), "last");
    return await result;
  }

  /**
   * A buffer of `bytes` (at least) for a part of {@linkcode compressParts}: one the worker
   * handed back when `bytes` fits {@linkcode PART_BYTES}, else a new one.
   */
  partBuffer(bytes: number): Uint8Array {
    if (bytes > PART_BYTES) return new Uint8Array(bytes);
    return new Uint8Array(this.#spare.pop() ?? new ArrayBuffer(PART_BYTES));
  }

  #postPart(id: number, body: Uint8Array, part: "more" | "last"): void {
    const own = body.buffer instanceof ArrayBuffer ? body : body.slice();
    const job: CompressJob = { id, body: own, kind: this.#kind, level: this.#level, part };
    this.#worker!.postMessage(job, [own.buffer as ArrayBuffer]);
  }

  #here(body: Uint8Array): Promise<Uint8Array> {
    try {
      return Promise.resolve(compress(body, this.#kind, this.#level));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #post(body: Uint8Array, waiter: Waiter): void {
    const id = this.#next++;
    // A shared buffer cannot move: copy the bytes then.
    const own = body.buffer instanceof ArrayBuffer ? body : body.slice();
    const job: CompressJob = { id, body: own, kind: this.#kind, level: this.#level };
    this.#waiting.set(id, waiter);
    this.#worker!.postMessage(job, [own.buffer as ArrayBuffer]);
  }

  #start(): Worker {
    const worker = new Worker(this.#workerUrl, { type: "module" });
    worker.onmessage = (e: MessageEvent<CompressReply | "ready">) => {
      if (e.data === "ready") {
        this.#ready = true;
        for (const q of this.#queued.splice(0)) this.#post(q.body, q);
        return;
      }
      const w = this.#waiting.get(e.data.id);
      if (w === undefined) return;
      this.#waiting.delete(e.data.id);
      if ("out" in e.data) {
        for (const b of e.data.spent ?? []) {
          if (this.#spare.length < SPARE_PARTS) this.#spare.push(b);
        }
        w.resolve(e.data.out);
      } else w.reject(new Error(e.data.error));
      if (this.#waiting.size === 0) this.#retireWhenIdle();
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#broken = true;
      this.#fail(new Error(`The compression worker failed: ${e.message}`));
    };
    return worker;
  }

  /** Ends the worker when no job came for `idleMs` since the last result. */
  #retireWhenIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#waiting.size > 0 || !this.#ready) return;
      this.#worker?.terminate();
      this.#worker = undefined;
      this.#ready = false;
      this.#spare = [];
    }, this.#idleMs);
  }

  /** Ends the worker: jobs in it reject with `err`, jobs not handed over yet run here. */
  #fail(err: Error): void {
    clearTimeout(this.#idleTimer);
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#ready = false;
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
    for (const q of this.#queued.splice(0)) this.#here(q.body).then(q.resolve, q.reject);
  }

  /** True once the worker runs and until it fails: large bodies are compressed off the loop. */
  get offThread(): boolean {
    return this.#ready && !this.#broken;
  }

  /** Stops the worker; jobs still in it reject. */
  close(): void {
    this.#fail(new Error("The exporter shut down"));
  }
}
