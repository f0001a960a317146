import assert from "node:assert/strict";
import zlib from "node:zlib";
import { compress, Compressor, OFF_THREAD_BYTES, PART_BYTES } from "./compression.ts";

Deno.test("compress() output inflates back to the input for every compression, small and large", () => {
  for (const size of [100, 600_000]) {
    const data = new TextEncoder().encode(
      "x".repeat(size / 2) + crypto.randomUUID().repeat(size / 72),
    );
    const gz = compress(data, "gzip", 1);
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(gz)), data);
    const zs = compress(data, "zstd", 3);
    assert.deepEqual(new Uint8Array(zlib.zstdDecompressSync(zs)), data);
    for (const kind of ["zlib", "deflate"] as const) {
      const z = compress(data, kind, undefined);
      assert.equal(z[0]! & 0x0f, 8, `${kind}: a zlib header (RFC 1950), deflate method`);
      assert.deepEqual(new Uint8Array(zlib.inflateSync(z)), data);
    }
    assert.equal(compress(data, "none", undefined), data);
  }
});

Deno.test("compress() defaults to gzip level 6, upstream's DefaultCompression", () => {
  const data = new TextEncoder().encode(
    Array.from({ length: 2000 }, (_, i) => `line ${i} ${(i * 7919) % 1009}`).join("\n"),
  );
  const def = compress(data, "gzip", undefined);
  assert.deepEqual(def, new Uint8Array(zlib.gzipSync(data, { level: 6 })));
  assert.notDeepEqual(def, new Uint8Array(zlib.gzipSync(data, { level: 1 })));
});

Deno.test("compress() defaults zstd to level 1, what upstream's default (-1) selects", () => {
  const data = new TextEncoder().encode(
    Array.from({ length: 2000 }, (_, i) => `line ${i} ${(i * 7919) % 1009}`).join("\n"),
  );
  const level = (n: number) =>
    new Uint8Array(zlib.zstdCompressSync(data, {
      params: { [zlib.constants.ZSTD_c_compressionLevel]: n },
    }));
  const def = compress(data, "zstd", undefined);
  assert.deepEqual(def, level(1));
  assert.notDeepEqual(def, level(3), "not the zstd library's own default");
});

Deno.test("Compressor: large bodies go through the worker and come back identical to compress()", async () => {
  const c = new Compressor("gzip", 6);
  try {
    const text = Array.from({ length: 40_000 }, (_, i) => `line ${i} ${(i * 7919) % 1009}`);
    const data = new TextEncoder().encode(text.join("\n"));
    assert.ok(data.length >= OFF_THREAD_BYTES);
    const expected = compress(data, "gzip", 6);
    // Several at once, one of them a view into a larger buffer (which moves whole).
    const view = new Uint8Array(data.length + 10).subarray(5, 5 + data.length);
    view.set(data);
    const outs = await Promise.all([
      c.compress(data.slice()),
      c.compress(view),
      c.compress(data.slice()),
    ]);
    for (const out of outs) assert.deepEqual(out, expected);
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(outs[1]!)), data);
    const small = new TextEncoder().encode("small body");
    assert.deepEqual(await c.compress(small), compress(small, "gzip", 6));
  } finally {
    c.close();
  }
});

Deno.test("Compressor: close() rejects what is still in the worker", async () => {
  const c = new Compressor("zstd", undefined);
  await c.compress(new Uint8Array(OFF_THREAD_BYTES)); // the worker runs
  const p = c.compress(new Uint8Array(OFF_THREAD_BYTES * 64));
  c.close();
  await assert.rejects(p, /shut down/);
});

Deno.test("Compressor: when the worker cannot start, every job is compressed here and none fails", async () => {
  const c = new Compressor(
    "gzip",
    1,
    new URL("data:application/javascript,throw new Error('no worker')"),
  );
  try {
    const data = new Uint8Array(OFF_THREAD_BYTES * 2).fill(7);
    const expected = compress(data, "gzip", 1);
    const outs = await Promise.all([c.compress(data.slice()), c.compress(data.slice())]);
    for (const out of outs) assert.deepEqual(out, expected);
    assert.deepEqual(await c.compress(data.slice()), expected);
  } finally {
    c.close();
  }
});

Deno.test("Compressor: the worker runs in a process granted no permissions at all", async () => {
  const module = new URL("./compression.ts", import.meta.url).href;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    file,
    `import { Compressor, OFF_THREAD_BYTES } from ${JSON.stringify(module)};
    const c = new Compressor("gzip", 6);
    const out = await c.compress(new Uint8Array(OFF_THREAD_BYTES * 4).fill(1));
    console.log(JSON.stringify({ offThread: c.offThread, bytes: out.length }));
    c.close();`,
  );
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-prompt", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    const result = JSON.parse(new TextDecoder().decode(stdout));
    assert.equal(result.offThread, true, `the worker did not run: ${err}`);
    assert.ok(result.bytes > 0);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("Compressor.compressParts: parts streamed to the worker make one stream, as compress() of the whole", async () => {
  const text = Array.from({ length: 40_000 }, (_, i) => `line ${i} ${(i * 7919) % 1009}`);
  const data = new TextEncoder().encode(text.join("\n"));
  const cut = (n: number) =>
    Array.from(
      { length: n },
      (_, i) => data.slice((i * data.length) / n, ((i + 1) * data.length) / n),
    );
  for (const kind of ["gzip", "zstd", "deflate"] as const) {
    const c = new Compressor(kind, undefined);
    try {
      await c.compress(new Uint8Array(OFF_THREAD_BYTES)); // the worker runs
      assert.equal(c.offThread, true);
      const out = await c.compressParts(cut(7));
      // One stream (one gzip member): inflating the first member alone gives everything.
      const back = kind === "gzip"
        ? zlib.gunzipSync(out)
        : kind === "zstd"
        ? zlib.zstdDecompressSync(out)
        : zlib.inflateSync(out);
      assert.deepEqual(new Uint8Array(back), data, kind);
      if (kind === "gzip") {
        // One member: its trailer's ISIZE (the last 4 bytes) counts every input byte.
        const isize = new DataView(out.buffer, out.byteOffset + out.length - 4, 4);
        assert.equal(isize.getUint32(0, true), data.length);
      }
      // Small totals are compressed here, exactly as compress() does.
      const small = cut(1)[0]!.subarray(0, 1000);
      assert.deepEqual(
        await c.compressParts([small.slice(0, 500), small.slice(500)]),
        compress(small, kind, undefined),
      );
    } finally {
      c.close();
    }
  }
});

Deno.test("Compressor.partBuffer: the worker hands part buffers back, and a body made of reused ones comes out whole", async () => {
  const c = new Compressor("gzip", 1);
  try {
    await c.compress(new Uint8Array(OFF_THREAD_BYTES)); // the worker runs
    const round = async (fill: number) => {
      const parts = [0, 1, 2].map(() => c.partBuffer(PART_BYTES - 10));
      const fresh = parts.filter((p) => p.every((b) => b === 0)).length;
      for (const p of parts) p.fill(fill);
      const body = parts.map((p) => p.subarray(0, PART_BYTES - 10 - fill));
      const out = await c.compressParts(body);
      const back = new Uint8Array(zlib.gunzipSync(out));
      assert.equal(back.length, 3 * (PART_BYTES - 10 - fill));
      assert.ok(back.every((b) => b === fill));
      return fresh;
    };
    assert.equal(await round(1), 3, "new buffers at first");
    assert.equal(await round(2), 0, "then the ones the worker handed back (still holding 1s)");
    assert.equal(c.partBuffer(PART_BYTES + 1).length, PART_BYTES + 1, "larger: a new one");
  } finally {
    c.close();
  }
});

Deno.test("Compressor.compressParts: an error from the parts reaches the caller and the worker goes on", async () => {
  const c = new Compressor("gzip", 1);
  try {
    await c.compress(new Uint8Array(OFF_THREAD_BYTES)); // the worker runs
    const failing = function* (): Generator<Uint8Array> {
      yield new Uint8Array(OFF_THREAD_BYTES).fill(1);
      throw new Error("cannot encode part 2");
    };
    await assert.rejects(c.compressParts(failing()), /cannot encode part 2/);
    const data = new Uint8Array(OFF_THREAD_BYTES * 3).fill(2);
    const out = await c.compressParts([data.slice(0, 100_000), data.slice(100_000)]);
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(out)), data);
  } finally {
    c.close();
  }
});

Deno.test("Compressor: the worker ends when idle and starts again for the next body", async () => {
  const idleMs = 200;
  const c = new Compressor("gzip", 6, undefined, idleMs);
  // Compared by length and first difference: a failing deepEqual of large arrays takes ages.
  const same = (a: Uint8Array, b: Uint8Array, what: string) => {
    assert.equal(a.length, b.length, `${what}: length`);
    assert.equal(a.findIndex((x, i) => x !== b[i]), -1, `${what}: first byte that differs`);
  };
  try {
    const data = new TextEncoder().encode("idle worker ".repeat(40_000));
    assert.ok(data.length > PART_BYTES);
    const expected = compress(data, "gzip", 6);
    const inParts = async () => {
      const first = c.partBuffer(PART_BYTES);
      first.set(data.subarray(0, PART_BYTES));
      return new Uint8Array(
        zlib.gunzipSync(await c.compressParts([first, data.slice(PART_BYTES)])),
      );
    };
    same(await c.compress(data.slice()), expected, "first body");
    assert.equal(c.offThread, true);
    same(await inParts(), data, "first body in parts");
    // Busy: jobs within the idle time keep it.
    await new Promise((r) => setTimeout(r, idleMs / 2));
    same(await c.compress(data.slice()), expected, "a body within the idle time");
    await new Promise((r) => setTimeout(r, idleMs / 2));
    assert.equal(c.offThread, true, "a job within the idle time keeps the worker");
    await new Promise((r) => setTimeout(r, idleMs * 2));
    assert.equal(c.offThread, false, "ended after idleMs without a job");
    // The next large body starts it again; bodies in parts go back to it once it runs.
    same(await c.compress(data.slice()), expected, "after the restart");
    assert.equal(c.offThread, true);
    same(await inParts(), data, "in parts after the restart");
  } finally {
    c.close();
  }
});
