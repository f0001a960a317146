import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import type { FilelogReceiver } from "./receiver.ts";
import { hostWithStorage, plainHost, polls, receiver, Sink, tempDir } from "./test_helpers.ts";

async function append(path: string, lines: string[]): Promise<void> {
  await Deno.writeTextFile(path, lines.map((l) => l + "\n").join(""), { append: true });
}

function lines(prefix: string, n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `${prefix}-${String(i).padStart(4, "0")} some payload`,
  );
}

/**
 * Runs `body` against a started receiver (reading from the beginning, polled by hand) over a
 * fresh temp dir; the receiver is stopped and the dir removed even when `body` fails.
 */
async function withReceiver(
  config: (dir: string) => Record<string, unknown>,
  body: (t: { dir: string; r: FilelogReceiver; sink: Sink }) => Promise<void>,
): Promise<void> {
  const dir = await tempDir();
  const sink = new Sink();
  const r = receiver({ start_at: "beginning", poll_interval: "1h", ...config(dir) }, sink);
  try {
    await r.start(plainHost);
    await body({ dir, r, sink });
  } finally {
    await r.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("rename rotation (kubelet 0.log -> 0.log.<ts>): every line exactly once, tail written after rename included", async () => {
  await withReceiver((dir) => ({ include: [`${dir}/*.log`] }), async ({ dir, r, sink }) => {
    const path = `${dir}/0.log`;
    const a = lines("a", 20), b = lines("b", 5), c = lines("c", 3), d = lines("d", 7);
    await append(path, a);
    await polls(r);
    await append(path, b); // written before the rename, not yet read
    await Deno.rename(path, `${path}.20240501-120000`);
    await append(`${path}.20240501-120000`, c); // the runtime still writes to the old file
    await append(path, d); // the runtime reopened 0.log
    await polls(r, 5);
    assert.deepEqual(sink.bodies(), [...a, ...b, ...c, ...d]);
  });
});

Deno.test("kube-apiserver rotation (audit.log -> audit-<ts>.log, include of audit.log only)", async () => {
  await withReceiver((dir) => ({ include: [`${dir}/audit.log`] }), async ({ dir, r, sink }) => {
    const path = `${dir}/audit.log`;
    const a = lines('{"stage":"a"', 10), b = lines('{"stage":"b"', 10);
    await append(path, a);
    await polls(r);
    await append(path, b.slice(0, 4));
    await Deno.rename(path, `${dir}/audit-2024-05-01T12-00-00.000.log`);
    await append(path, b.slice(4));
    await polls(r, 2);
    assert.deepEqual(sink.bodies(), [...a, ...b]);
  });
});

Deno.test("copytruncate with the copy outside the pattern: the unread tail is found by fingerprint", async () => {
  await withReceiver((dir) => ({ include: [`${dir}/app.log`] }), async ({ dir, r, sink }) => {
    const path = `${dir}/app.log`;
    const a = lines("a", 10), b = lines("b", 4), c = lines("c", 3);
    await append(path, a);
    await polls(r);
    await append(path, b);
    await Deno.copyFile(path, `${dir}/app.log.1`);
    await Deno.truncate(path, 0);
    await append(path, c);
    await polls(r, 2);
    assert.deepEqual(sink.bodies(), [...a, ...b, ...c]);
  });
});

Deno.test("a file deleted while open is read to its end", async () => {
  await withReceiver((dir) => ({ include: [`${dir}/*.log`] }), async ({ dir, r, sink }) => {
    const path = `${dir}/x.log`;
    await append(path, ["one"]);
    await polls(r);
    await append(path, ["two", "three"]);
    await Deno.remove(path);
    await polls(r, 4);
    assert.deepEqual(sink.bodies(), ["one", "two", "three"]);
  });
});

Deno.test("a new file under an old name is read from its beginning", async () => {
  await withReceiver((dir) => ({ include: [`${dir}/*.log`] }), async ({ dir, r, sink }) => {
    const path = `${dir}/x.log`;
    await append(path, ["first file line"]);
    await polls(r);
    await Deno.remove(path);
    await polls(r);
    await append(path, ["second file line 1", "second file line 2"]);
    await polls(r);
    assert.deepEqual(sink.bodies(), [
      "first file line",
      "second file line 1",
      "second file line 2",
    ]);
  });
});

Deno.test("truncation in place follows on_truncate", async () => {
  const l = (n: number): string => `0123456789abcdef-${n}`;
  const cases = [
    ["ignore", [l(1), l(2), l(4)]],
    ["read_whole_file", [l(1), l(2), l(1), l(3), l(4)]],
    ["read_new", [l(1), l(2), l(3), l(4)]],
  ] as const;
  for (const [mode, expected] of cases) {
    await withReceiver(
      (dir) => ({ include: [`${dir}/t.log`], on_truncate: mode, fingerprint_size: 16 }),
      async ({ dir, r, sink }) => {
        const path = `${dir}/t.log`;
        await append(path, [l(1), l(2)]);
        await polls(r);
        // Same first 16 bytes but shorter than the offset: the same file, truncated.
        await Deno.writeTextFile(path, `${l(1)}\n`);
        await polls(r);
        await append(path, [l(3)]);
        await polls(r);
        await append(path, [l(4)]);
        await polls(r);
        assert.deepEqual(sink.bodies(), expected, mode);
      },
    );
  }
});

Deno.test("restart during rotation: the checkpointed file is found rotated and gzipped, its remainder read first", async () => {
  const dir = await tempDir();
  const path = `${dir}/0.log`;
  const store = new Map<string, Uint8Array>();
  const cfg = {
    include: [`${dir}/*.log`],
    start_at: "end",
    poll_interval: "1h",
    storage: "file_storage",
  };
  const a = lines("a", 10), b = lines("b", 6), c = lines("c", 4);
  await append(path, a);
  const s1 = new Sink();
  const r1 = receiver({ ...cfg, start_at: "beginning" }, s1);
  await r1.start(hostWithStorage(store));
  await polls(r1);
  await r1.shutdown();
  assert.deepEqual(s1.bodies(), a);
  // While down: more lines, rotation, gzip of the rotated file, a new 0.log.
  await append(path, b);
  const rotated = await Deno.readFile(path);
  await Deno.writeFile(`${path}.20240501-120000.gz`, gzipSync(rotated));
  await Deno.remove(path);
  await append(path, c);
  const s2 = new Sink();
  const r2 = receiver(cfg, s2);
  await r2.start(hostWithStorage(store));
  await polls(r2, 5);
  assert.deepEqual(s2.bodies(), [...b, ...c]);
  await r2.shutdown();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("compression: gzip reads .gz files matched by include", async () => {
  await withReceiver(
    (dir) => ({ include: [`${dir}/*.gz`], compression: "gzip" }),
    async ({ dir, r, sink }) => {
      await Deno.writeFile(`${dir}/old.log.gz`, gzipSync(new TextEncoder().encode("z1\nz2\n")));
      await polls(r, 2);
      assert.deepEqual(sink.bodies(), ["z1", "z2"]);
    },
  );
});
