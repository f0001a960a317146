/**
 * Reads a request body, decompressing it as it streams, with `max_request_body_size` applied
 * to the bytes on the wire and to the decompressed bytes: a small compressed body that would
 * inflate beyond the limit (a "gzip bomb") is refused as soon as the limit is passed, never
 * inflated in full (the issue upstream fixed in GHSA-c74f-6mfw-mm4v).
 *
 * @module
 */

import zlib from "node:zlib";

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

function newDecoder(encoding: string): Decoder {
  switch (encoding) {
    case "gzip":
      return zlib.createGunzip(); // reads every member of a concatenated stream
    case "zlib":
    case "deflate": // zlib-wrapped, as upstream (and RFC 9110) read it
      return zlib.createInflate();
    case "zstd":
      return zlib.createZstdDecompress();
    default:
      throw new BodyError(`unsupported Content-Encoding: ${encoding}`);
  }
}

function tooLarge(limit: number): BodyError {
  return new BodyError(`request body too large: the limit is ${limit} bytes`);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
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
): Promise<Uint8Array> {
  if (body === null) {
    if (encoding === "") return new Uint8Array(0);
    body = new ReadableStream({ start: (c) => c.close() });
  }
  const reader = body.getReader();
  const decoder = encoding === "" ? undefined : newDecoder(encoding);
  const out: Uint8Array[] = [];
  let outBytes = 0;
  let failure: BodyError | undefined;
  const fail = (err: BodyError) => {
    failure ??= err;
    decoder?.destroy();
    reader.cancel().catch(() => {});
  };
  const onAbort = () => fail(new BodyError(String(signal!.reason ?? "request body read aborted")));
  signal?.addEventListener("abort", onAbort, { once: true });
  const decoded = Promise.withResolvers<void>();
  decoder?.on("data", (chunk: Uint8Array) => {
    outBytes += chunk.length;
    if (outBytes > limit) fail(tooLarge(limit));
    else out.push(chunk);
  });
  decoder?.on("error", (err: Error) => {
    fail(new BodyError(`cannot decompress the ${encoding} body: ${err.message}`));
    decoded.resolve();
  });
  decoder?.on("end", () => decoded.resolve());
  decoder?.on("close", () => decoded.resolve());
  try {
    if (signal?.aborted) onAbort();
    let wire = 0;
    while (failure === undefined) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch (err) {
        fail(new BodyError(`cannot read the body: ${err instanceof Error ? err.message : err}`));
        break;
      }
      if (step.done) break;
      const chunk = step.value;
      wire += chunk.length;
      if (wire > limit) {
        fail(tooLarge(limit));
        break;
      }
      if (decoder === undefined) {
        out.push(chunk);
        outBytes = wire;
      } else if (!decoder.write(chunk)) {
        // Let the decoder catch up, so the output counter sees each chunk before the next.
        await new Promise<void>((resolve) => {
          decoder.once("drain", resolve);
          decoder.once("close", resolve);
        });
      }
    }
    if (decoder !== undefined && failure === undefined) {
      decoder.end();
      await decoded.promise;
    }
    if (failure !== undefined) throw failure;
    return concat(out, outBytes);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (failure !== undefined) decoder?.destroy();
  }
}
