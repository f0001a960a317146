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
const compress = ${compress.toString()};
self.onmessage = (e) => {
  const { id, body, kind, level } = e.data;
  try {
    let out = compress(body, kind, level);
    // zlib may return a view into a larger or shared buffer: transfer only a buffer of its own.
    if (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength) out = out.slice();
    self.postMessage({ id, out }, [out.buffer]);
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
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
}

/** The worker's answer. */
type CompressReply = { id: number; out: Uint8Array } | { id: number; error: string };

interface Waiter {
  resolve(out: Uint8Array): void;
  reject(err: Error): void;
}

interface Queued extends Waiter {
  body: Uint8Array;
}

/**
 * A worker that compresses large bodies, started on first use and shared by every caller of
 * one exporter; jobs queue in the worker in order. Jobs are handed over only once the worker
 * said it runs: if it cannot start, the jobs still here are compressed on this thread, as is
 * everything later, and no request fails for it.
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

  /** A compressor for one `compression` setting (`workerUrl`: for tests). */
  constructor(
    kind: Compression,
    level: number | undefined,
    workerUrl = new URL(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`),
  ) {
    this.#kind = kind;
    this.#level = level;
    this.#workerUrl = workerUrl;
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
      if ("out" in e.data) w.resolve(e.data.out);
      else w.reject(new Error(e.data.error));
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#broken = true;
      this.#fail(new Error(`The compression worker failed: ${e.message}`));
    };
    return worker;
  }

  /** Ends the worker: jobs in it reject with `err`, jobs not handed over yet run here. */
  #fail(err: Error): void {
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
