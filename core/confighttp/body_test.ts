import assert from "node:assert/strict";
import zlib from "node:zlib";
import { BodyError, normalizeEncoding, readBody } from "./body.ts";

const text = (s: string) => new TextEncoder().encode(s);
const streamOf = (...chunks: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("readBody: identity, gzip (concatenated members), zlib, deflate, zstd", async () => {
  assert.equal(decode(await readBody(streamOf(text("ab"), text("c")), "", 10)), "abc");
  const members = new Uint8Array([
    ...zlib.gzipSync(text("hello ")),
    ...zlib.gzipSync(text("world")),
  ]);
  assert.equal(decode(await readBody(streamOf(members), "gzip", 100)), "hello world");
  assert.equal(decode(await readBody(streamOf(zlib.deflateSync(text("z"))), "zlib", 100)), "z");
  assert.equal(decode(await readBody(streamOf(zlib.deflateSync(text("d"))), "deflate", 100)), "d");
  assert.equal(
    decode(await readBody(streamOf(zlib.zstdCompressSync(text("zs"))), "zstd", 100)),
    "zs",
  );
  assert.equal((await readBody(null, "", 10)).length, 0);
});

Deno.test("readBody: the limit applies on the wire and after decompression", async () => {
  await assert.rejects(readBody(streamOf(new Uint8Array(11)), "", 10), BodyError);
  assert.equal((await readBody(streamOf(new Uint8Array(10)), "", 10)).length, 10);
  const big = zlib.gzipSync(new Uint8Array(1 << 20));
  await assert.rejects(readBody(streamOf(big), "gzip", 1000), /too large/);
  assert.equal((await readBody(streamOf(big), "gzip", 1 << 20)).length, 1 << 20);
});

Deno.test("readBody: broken input is a BodyError", async () => {
  const gz = zlib.gzipSync(text("hello world"));
  await assert.rejects(readBody(streamOf(gz.subarray(0, gz.length - 4)), "gzip", 100), BodyError);
  await assert.rejects(readBody(streamOf(text("not gzip")), "gzip", 100), BodyError);
  await assert.rejects(readBody(streamOf(text("x")), "br", 100), /unsupported Content-Encoding/);
  await assert.rejects(readBody(null, "gzip", 100), BodyError);
  const failing = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error("reset")) });
  await assert.rejects(readBody(failing, "", 100), /cannot read the body: reset/);
});

Deno.test("readBody: an abort signal ends a stalled read", async () => {
  const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(text("a")) });
  const ac = new AbortController();
  const read = readBody(stalled, "", 100, ac.signal);
  ac.abort("read_timeout");
  await assert.rejects(read, /read_timeout/);
});

Deno.test("normalizeEncoding: case and identity names", () => {
  assert.equal(normalizeEncoding(" GZip "), "gzip");
  assert.equal(normalizeEncoding("identity"), "");
  assert.equal(normalizeEncoding("none"), "");
  assert.equal(normalizeEncoding(null), "");
});
