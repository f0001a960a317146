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

Deno.test("readBody: large inputs and outputs stream, with the same limits", async () => {
  // Over 256 KiB on the wire: the streaming path, across several chunks and two members.
  const random = crypto.getRandomValues(new Uint8Array(60_000));
  const plain = new Uint8Array(480_000);
  for (let i = 0; i < 8; i++) plain.set(random, i * 60_000);
  const noisy = new Uint8Array(300_000);
  for (let i = 0; i < noisy.length; i += 65536) {
    crypto.getRandomValues(noisy.subarray(i, i + 65536));
  }
  const gz = new Uint8Array([...zlib.gzipSync(noisy), ...zlib.gzipSync(plain)]);
  assert.ok(gz.length > 256 * 1024);
  const chunks = Array.from(
    { length: Math.ceil(gz.length / 65536) },
    (_, i) => gz.subarray(i * 65536, (i + 1) * 65536),
  );
  const got = await readBody(streamOf(...chunks), "gzip", 1 << 20);
  assert.deepEqual(got, new Uint8Array([...noisy, ...plain]));
  await assert.rejects(readBody(streamOf(...chunks), "gzip", 700_000), /too large/);
  // A small input inflating past the 1 MiB synchronous cap continues as a stream.
  const eight = zlib.gzipSync(new Uint8Array(8 << 20));
  assert.equal((await readBody(streamOf(eight), "gzip", 16 << 20)).length, 8 << 20);
  await assert.rejects(readBody(streamOf(eight), "gzip", 4 << 20), /too large/);
  const zst = zlib.zstdCompressSync(new Uint8Array(3 << 20));
  assert.equal((await readBody(streamOf(zst), "zstd", 4 << 20)).length, 3 << 20);
});

Deno.test("readBody: decompressed bodies are plain Uint8Arrays (not node Buffers)", async () => {
  const small = await readBody(streamOf(zlib.gzipSync(text("abc"))), "gzip", 100);
  const big = await readBody(streamOf(zlib.gzipSync(new Uint8Array(2 << 20))), "gzip", 4 << 20);
  for (const b of [small, big]) assert.equal(Object.getPrototypeOf(b), Uint8Array.prototype);
});
