/**
 * The compression worker behind {@linkcode Compressor}: compresses each body it is sent and
 * hands the result back without copying it.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { compress, type CompressJob, type CompressReply } from "./compression.ts";

self.onmessage = (e: MessageEvent<CompressJob>) => {
  const { id, body, kind, level } = e.data;
  let reply: CompressReply;
  let transfer: ArrayBuffer[] = [];
  try {
    let out = compress(body, kind, level);
    // zlib may return a view into a larger or shared buffer: transfer only a buffer of its own.
    if (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength) out = out.slice();
    reply = { id, out };
    transfer = [out.buffer as ArrayBuffer];
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(reply, transfer);
};
// Jobs are handed over only after this: a worker that cannot load never receives one.
self.postMessage("ready");
