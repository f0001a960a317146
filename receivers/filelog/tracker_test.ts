import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { nopLogger } from "../../core/telemetry/logger.ts";
import type { Entry } from "../../pkg/stanza/entry.ts";
import { gzipHead } from "./gzip_stream.ts";
import { decodeCheckpoint, KNOWN_FILES_KEY } from "./checkpoint.ts";
import {
  eventually,
  hostWithStorage,
  mustParse,
  polls,
  receiver,
  Sink,
  tempDir,
} from "./test_helpers.ts";
import { Tracker } from "./tracker.ts";

Deno.test("a token whose hand-off throws is read again next poll: no record is skipped", async () => {
  const dir = await tempDir();
  const path = `${dir}/a.log`;
  await Deno.writeTextFile(path, "one\ntwo\nthree\n");
  const seen: string[] = [];
  let failOn: string | undefined = "two";
  const t = new Tracker(
    mustParse({ include: [path], start_at: "beginning" }),
    nopLogger(),
    {
      entry: (e: Entry) => {
        if (e.body === failOn) {
          failOn = undefined;
          throw new Error("boom");
        }
        seen.push(String(e.body));
      },
      chunkDone: () => Promise.resolve(),
    },
    { watch: false },
  );
  try {
    await t.poll(Date.now());
    assert.deepEqual(seen, ["one"]);
    await t.poll(Date.now()); // unchanged file: still read again
    assert.deepEqual(seen, ["one", "two", "three"]);
    const tf = [...t.files][0]!;
    assert.equal(tf.readOffset, 14);
    assert.equal(tf.recordNum, 3);
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shutdown stops reading a backlog once the grace period ends, checkpoint stays at the accepted data", async () => {
  const dir = await tempDir();
  const path = `${dir}/a.log`;
  const lines = 200_000;
  await Deno.writeTextFile(path, "0123456789012345678901234567890123456789\n".repeat(lines));
  const sink = new Sink();
  sink.gate = new Promise(() => {}); // never accepts
  const data = new Map<string, Uint8Array>();
  const r = receiver(
    { include: [path], start_at: "beginning", poll_interval: "10ms", storage: "file_storage" },
    sink,
  );
  try {
    await r.start(hostWithStorage(data));
    await eventually("the first batch is offered", () => sink.calls > 0);
    await r.shutdown();
    // One 1 MiB chunk is ~26k lines: reading stopped long before the end of the file.
    assert.ok(r.tracker.stats.records < lines / 2, `${r.tracker.stats.records} records read`);
    const saved = decodeCheckpoint(data.get(KNOWN_FILES_KEY)!);
    assert.equal(saved.length, 1);
    assert.equal(saved[0]!.offset, 0);
  } finally {
    await r.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a large .gz is streamed: records arrive in many bounded batches, and a restart resumes at the checkpoint", async () => {
  const dir = await tempDir();
  const path = `${dir}/big.log.gz`;
  const line = (i: number): string => `${String(i).padStart(8, "0")} ${"x".repeat(90)}\n`; // 100 bytes
  const lines = 120_000; // 12 MB of text
  let text = "";
  for (let i = 0; i < lines; i++) text += line(i);
  await Deno.writeFile(path, gzipSync(new TextEncoder().encode(text)));
  const cfg = {
    include: [path],
    start_at: "beginning",
    compression: "gzip",
    storage: "file_storage",
    poll_interval: "1h",
  };
  const sink = new Sink();
  const data = new Map<string, Uint8Array>();
  const r = receiver(cfg, sink);
  try {
    await r.start(hostWithStorage(data));
    await polls(r, 2);
    const sizes = sink.batches.map((b) =>
      b.resourceLogs.reduce(
        (n, rl) => n + rl.scopeLogs.reduce((m, sl) => m + sl.logRecords.length, 0),
        0,
      )
    );
    assert.equal(sizes.reduce((a, b) => a + b, 0), lines);
    // At most one 1 MiB chunk of records past the 4096-record batch size.
    const perChunk = Math.ceil((1024 * 1024 + 64 * 1024) / 100);
    assert.ok(Math.max(...sizes) <= 4096 + perChunk, `largest batch ${Math.max(...sizes)}`);
    assert.ok(sizes.length >= 10, `${sizes.length} batches`);
    const bodies = sink.bodies();
    assert.equal(bodies[0], line(0).trimEnd());
    assert.equal(bodies[lines - 1], line(lines - 1).trimEnd());
  } finally {
    await r.shutdown();
  }
  // A restart with the checkpoint reads nothing again, and fingerprinting inflates the head only.
  const sink2 = new Sink();
  const r2 = receiver(cfg, sink2);
  try {
    await r2.start(hostWithStorage(data));
    await polls(r2, 2);
    assert.equal(sink2.bodies().length, 0);
    const h = await Deno.open(path);
    try {
      assert.equal(new TextDecoder().decode(await gzipHead(h, 1000)), text.slice(0, 1000));
    } finally {
      h.close();
    }
  } finally {
    await r2.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("max_concurrent_files caps open handles during a poll, and every file is still read", async () => {
  const dir = await tempDir();
  for (let i = 0; i < 20; i++) await Deno.writeTextFile(`${dir}/f${i}.log`, `line ${i}\n`);
  const seen: string[] = [];
  let maxOpen = 0;
  const t: Tracker = new Tracker(
    mustParse({ include: [`${dir}/*.log`], start_at: "beginning", max_concurrent_files: 4 }),
    nopLogger(),
    {
      entry: (e: Entry) => {
        seen.push(String(e.body));
        maxOpen = Math.max(maxOpen, t.openFiles);
      },
      chunkDone: () => Promise.resolve(),
    },
    { watch: false },
  );
  try {
    await t.poll(Date.now());
    assert.equal(seen.length, 20);
    assert.ok(maxOpen <= 4, `${maxOpen} files open at once`);
    assert.ok(t.openFiles <= 4);
    await Deno.writeTextFile(`${dir}/f0.log`, "more\n", { append: true });
    await t.poll(Date.now());
    assert.deepEqual(seen.slice(20), ["more"]);
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exclude_older_than: a file skipped while old keeps its position and is not re-read when written again", async () => {
  const dir = await tempDir();
  const path = `${dir}/a.log`;
  await Deno.writeTextFile(path, "one\ntwo\n");
  const seen: string[] = [];
  const t = new Tracker(
    mustParse({ include: [path], start_at: "beginning", exclude_older_than: "1h" }),
    nopLogger(),
    { entry: (e: Entry) => void seen.push(String(e.body)), chunkDone: () => Promise.resolve() },
    { watch: false },
  );
  try {
    await t.poll(Date.now());
    assert.deepEqual(seen, ["one", "two"]);
    const old = new Date(Date.now() - 2 * 3600_000);
    await Deno.utime(path, old, old);
    for (let i = 0; i < 6; i++) await t.poll(Date.now()); // more polls than files are kept lost
    assert.equal(t.files.size, 1);
    await Deno.writeTextFile(path, "three\n", { append: true });
    await t.poll(Date.now());
    assert.deepEqual(seen, ["one", "two", "three"]);
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a backlog is read fairly: each poll reads a budget of every file, each file in order", async () => {
  const dir = await tempDir();
  const lines = 8000; // ~0.8 MB per file: several reads
  for (const f of ["a", "b", "c"]) {
    const text = Array.from({ length: lines }, (_, i) => `${f} ${i} ${"x".repeat(90)}\n`);
    await Deno.writeTextFile(`${dir}/${f}.log`, text.join(""));
  }
  const seen: string[] = [];
  const t = new Tracker(
    mustParse({ include: [`${dir}/*.log`], start_at: "beginning" }),
    nopLogger(),
    { entry: (e: Entry) => void seen.push(String(e.body)), chunkDone: () => Promise.resolve() },
    { watch: false, readBudget: 1 }, // one read per file and poll
  );
  try {
    await t.poll(Date.now());
    const of = (f: string) => seen.filter((b) => b.startsWith(`${f} `)).map((b) => b.split(" ")[1]);
    for (const f of ["a", "b", "c"]) {
      assert.ok(of(f).length > 0 && of(f).length < lines, `${f}: ${of(f).length} after one poll`);
    }
    assert.equal(t.backlog, true);
    for (let i = 0; i < 20 && t.backlog; i++) await t.poll(Date.now());
    assert.equal(t.backlog, false);
    for (const f of ["a", "b", "c"]) {
      assert.deepEqual(of(f), Array.from({ length: lines }, (_, i) => String(i)), `${f} in order`);
    }
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});
