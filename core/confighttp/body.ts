/**
 * Reads a request body, decompressing it as it streams, with `max_request_body_size` applied
 * to the bytes on the wire and to the decompressed bytes: a small compressed body that would
 * inflate beyond the limit (a "gzip bomb") is refused as soon as the limit is passed, never
 * inflated in full (the issue upstream fixed in GHSA-c74f-6mfw-mm4v).
 *
 * @module
 */

import zlib from "node:zlib";
import type { BudgetHolder, ByteBudget } from "../admission.ts";
import { concatBytes } from "../bytes.ts";

/** The body could not be read: too large, undecodable, truncated or too slow (HTTP 400). */
export class BodyError extends Error {
  override name = "BodyError";
}

/** Normalises a `Content-Encoding` value: lower-case, and "" for the identity encodings. */
export function normalizeEncoding(header: string | null): string {
  const e = (header ?? "").trim().toLowerCase();
  return e === "identity" || e === "none" ? "" : e;
}

type Decoder = zlib.Gunzip | zlib.Inflate | zlib.ZstdDecompress;

const ENCODINGS = ["gzip", "zlib", "deflate", "zstd"];

function newDecoder(encoding: string): Decoder {
  switch (encoding) {
    case "gzip":
      return zlib.createGunzip(); // reads every member of a concatenated stream
    case "zstd":
      return zlib.createZstdDecompress();
    default: // "zlib", "deflate": zlib-wrapped, as upstream (and RFC 9110) read it
      return zlib.createInflate();
  }
}

/**
 * Bodies up to this size on the wire are decompressed in one synchronous call (much cheaper
 * than a stream per request), capped at {@linkcode SYNC_MAX_OUTPUT}: at most a few ms of
 * blocking, even for a bomb. Larger bodies, or outputs over the cap, stream.
 */
const SYNC_MAX_INPUT = 256 * 1024;
const SYNC_MAX_OUTPUT = 1024 * 1024;

/**
 * A plain Uint8Array over a node Buffer's bytes: Buffer's `subarray`/`slice` are slower, and
 * its `slice` is a view where callers expect a copy.
 */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function inflateSync(encoding: string, input: Uint8Array, maxOutputLength: number): Uint8Array {
  // Output chunks sized for the expected output (OTLP compresses ~5×): fewer, larger copies.
  const chunkSize = Math.min(256 * 1024, Math.max(16 * 1024, input.length * 8));
  const options = { maxOutputLength, chunkSize };
  switch (encoding) {
    case "gzip":
      return plain(zlib.gunzipSync(input, options));
    case "zstd":
      return plain(zlib.zstdDecompressSync(input, options));
    default:
      return plain(zlib.inflateSync(input, options));
  }
}

function tooLarge(limit: number): BodyError {
  return new BodyError(`request body too large: the limit is ${limit} bytes`);
}

function decompressError(encoding: string, err: unknown): BodyError {
  return new BodyError(
    `cannot decompress the ${encoding} body: ${err instanceof Error ? err.message : err}`,
  );
}

/** Bytes of a {@linkcode ByteBudget} that one request's body takes as it is read. */
export interface BodyBudget {
  readonly budget: ByteBudget;
  readonly holder: BudgetHolder;
}

/** Most bytes a budgeted read asks for at once. */
const READ_STEP = 64 * 1024;

/**
 * Reads a body's chunks, counting the bytes on the wire; failures become `BodyError`s. With a
 * budget, bytes are taken before they are read: the rest of a declared `Content-Length` in one
 * go, otherwise {@linkcode READ_STEP} at a time (`Deno.serve` hands bodies over in chunks of at
 * most 64 KiB); what a chunk did not use stays taken for the next one, and a larger chunk (the
 * node:https transport) is charged for the excess as it arrives.
 */
class WireReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #limit: number;
  readonly #budget: BodyBudget | undefined;
  readonly #expected: number | undefined;
  /** Bytes taken from the budget and not read yet. */
  #credit = 0;
  #aborted: BodyError | undefined;
  bytes = 0;

  constructor(
    body: ReadableStream<Uint8Array>,
    limit: number,
    budget?: BodyBudget,
    expected?: number,
  ) {
    this.#reader = body.getReader();
    this.#limit = limit;
    this.#budget = budget;
    this.#expected = expected;
  }

  /** Ends the read: the pending and every later `next` throw `err`. */
  abort(err: BodyError): void {
    this.#aborted ??= err;
    this.#reader.cancel().catch(() => {});
  }

  /** The next chunk, or undefined at the end. */
  async next(): Promise<Uint8Array | undefined> {
    if (this.#aborted) throw this.#aborted;
    const b = this.#budget;
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      if (b !== undefined && this.#credit === 0) {
        // A request with a declared length never waits holding part of its body.
        const want = this.#expected === undefined
          ? READ_STEP
          : Math.min(this.#expected - this.bytes, this.#limit + 1 - this.bytes);
        if (want > 0) await b.budget.acquire(b.holder, want);
        this.#credit = Math.max(0, want);
      }
      step = await this.#reader.read();
    } catch (err) {
      this.#dropCredit();
      if (isBudgetRefusal(err)) throw err;
      throw this.#aborted ??
        new BodyError(`cannot read the body: ${err instanceof Error ? err.message : err}`);
    }
    if (step.done || this.#aborted) this.#dropCredit();
    if (this.#aborted) throw this.#aborted; // a cancel makes the pending read look "done"
    if (step.done) return undefined;
    const n = step.value.length;
    this.bytes += n;
    if (this.bytes > this.#limit) {
      this.abort(tooLarge(this.#limit));
      this.#dropCredit();
      throw this.#aborted;
    }
    if (b !== undefined) {
      const excess = n - this.#credit;
      this.#credit = Math.max(0, this.#credit - n);
      if (excess > 0) await b.budget.acquire(b.holder, excess);
    }
    return step.value;
  }

  /** Gives back what was taken for bytes that never came. */
  #dropCredit(): void {
    if (this.#credit > 0) this.#budget!.budget.release(this.#budget!.holder, this.#credit);
    this.#credit = 0;
  }
}

function isBudgetRefusal(err: unknown): boolean {
  return err instanceof Error && err.name === "BudgetExhaustedError";
}

/**
 * Reads `body` whole, decoded per `encoding` (as returned by {@linkcode normalizeEncoding}),
 * refusing more than `limit` bytes on the wire or after decoding.
 *
 * @param signal aborts the read (e.g. `read_timeout`); the reason becomes the error message
 * @throws {BodyError} on any failure; the stream is cancelled
 */
export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  encoding: string,
  limit: number,
  signal?: AbortSignal,
  budget?: BodyBudget,
  expectedLength?: number,
): Promise<Uint8Array> {
  if (encoding !== "" && !ENCODINGS.includes(encoding)) {
    throw new BodyError(`unsupported Content-Encoding: ${encoding}`);
  }
  if (body === null) {
    if (encoding === "") return new Uint8Array(0);
    body = new ReadableStream({ start: (c) => c.close() });
  }
  const wire = new WireReader(body, limit, budget, expectedLength);
  let decoder: Decoder | undefined;
  const onAbort = () => {
    const err = new BodyError(String(signal!.reason ?? "request body read aborted"));
    wire.abort(err);
    decoder?.destroy(err);
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    // Everything (uncompressed), or the first part of a compressed body.
    const head: Uint8Array[] = [];
    const cap = encoding === "" ? limit : SYNC_MAX_INPUT;
    let ended = false;
    while (wire.bytes <= cap) {
      const chunk = await wire.next();
      if (chunk === undefined) {
        ended = true;
        break;
      }
      head.push(chunk);
    }
    if (encoding === "") return concatBytes(head);
    if (ended) {
      // The output's worst case is taken first, and what it did not use given back at once.
      const cap = Math.min(limit, SYNC_MAX_OUTPUT);
      if (budget) await budget.budget.acquire(budget.holder, cap);
      let out: Uint8Array | undefined;
      try {
        out = inflateSync(encoding, concatBytes(head), cap);
        return out;
      } catch (err) {
        const overCap = (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
        if (!overCap) throw decompressError(encoding, err);
        if (limit <= SYNC_MAX_OUTPUT) throw tooLarge(limit);
      } finally {
        budget?.budget.release(budget.holder, cap - (out?.length ?? 0));
      }
    }
    decoder = newDecoder(encoding);
    return await inflateStreaming(
      decoder,
      encoding,
      head,
      ended ? undefined : wire,
      limit,
      budget,
    );
  } finally {
    signal?.removeEventListener("abort", onAbort);
    decoder?.destroy();
  }
}

/** Decompresses `head` and then the rest of `wire`, stopping as soon as `limit` is passed. */
async function inflateStreaming(
  decoder: Decoder,
  encoding: string,
  head: readonly Uint8Array[],
  wire: WireReader | undefined,
  limit: number,
  budget: BodyBudget | undefined,
): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  let outBytes = 0;
  let failure: Error | undefined;
  const finished = Promise.withResolvers<void>();
  decoder.on("data", (chunk: Uint8Array) => {
    outBytes += chunk.length;
    if (outBytes <= limit) {
      out.push(plain(chunk));
      if (budget === undefined) return;
      // Charged as each output chunk comes (zlib's 16 KiB): no more comes until granted.
      decoder.pause();
      budget.budget.acquire(budget.holder, chunk.length).then(
        () => decoder.resume(),
        (err: Error) => {
          failure ??= err;
          wire?.abort(new BodyError(err.message));
          decoder.destroy();
        },
      );
    } else if (failure === undefined) {
      failure = tooLarge(limit);
      wire?.abort(failure);
      decoder.destroy();
    }
  });
  decoder.on("error", (err: Error) => {
    failure ??= err instanceof BodyError ? err : decompressError(encoding, err);
    wire?.abort(failure instanceof BodyError ? failure : new BodyError(failure.message));
  });
  decoder.on("end", () => finished.resolve());
  decoder.on("close", () => finished.resolve());
  const write = async (chunk: Uint8Array) => {
    if (!decoder.write(chunk)) {
      // Let the decoder catch up, so the output counter sees each chunk before the next.
      await new Promise<void>((resolve) => {
        const done = () => {
          decoder.off("drain", done);
          decoder.off("close", done);
          resolve();
        };
        decoder.on("drain", done);
        decoder.on("close", done);
      });
    }
  };
  try {
    for (const chunk of head) {
      if (failure) break;
      await write(chunk);
    }
    while (wire && !failure) {
      const chunk = await wire.next();
      if (chunk === undefined) break;
      await write(chunk);
    }
  } catch (err) {
    failure ??= err instanceof BodyError || isBudgetRefusal(err)
      ? err as Error
      : decompressError(encoding, err);
  }
  if (!failure) {
    decoder.end();
    await finished.promise;
  }
  if (failure) throw failure;
  return concatBytes(out);
}
