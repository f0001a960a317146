import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { StorageOperation } from "../../core/storage.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { defaultFileStorageConfig } from "./config.ts";
import type { CompactionConfig } from "./config.ts";
import { type SqliteClientOptions, SqliteStorageClient } from "./sqlite_client.ts";
import { databaseBytes, DatabaseCorruptError, DatabaseLockedError, moveAside } from "./database.ts";
import { bytes, testSettings, waitFor } from "./_testing.ts";

const enc = new TextEncoder();
const MIB = 1024 * 1024;

function options(
  path: string,
  over: Partial<Omit<SqliteClientOptions, "compaction">> & {
    compaction?: Partial<CompactionConfig>;
  } = {},
): SqliteClientOptions {
  const { compaction, ...rest } = over;
  return {
    path,
    timeoutMs: 200,
    fsync: false,
    recreate: false,
    logger: nopLogger(),
    ...rest,
    compaction: { ...defaultFileStorageConfig().compaction, ...compaction },
  };
}

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "file_storage_client_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("get/set/delete round-trip bytes exactly", async () => {
  await withDir(async (dir) => {
    const c = await SqliteStorageClient.open(options(join(dir, "db.sqlite")));
    try {
      assert.equal(await c.get("missing"), undefined);
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      await c.set("all-bytes", all);
      assert.deepEqual(await c.get("all-bytes"), all);

      await c.set("empty", new Uint8Array(0));
      const empty = await c.get("empty");
      assert.ok(empty instanceof Uint8Array, "an empty value is stored, not missing");
      assert.equal(empty.length, 0);

      const backing = Uint8Array.from([9, 9, 1, 2, 3, 9, 9]);
      await c.set("view", backing.subarray(2, 5));
      assert.deepEqual(await c.get("view"), Uint8Array.from([1, 2, 3]));

      await c.set("ключ/🔑", enc.encode("unicode key"));
      assert.deepEqual(await c.get("ключ/🔑"), enc.encode("unicode key"));

      await c.set("all-bytes", enc.encode("replaced"));
      assert.deepEqual(await c.get("all-bytes"), enc.encode("replaced"));

      await c.delete("all-bytes");
      assert.equal(await c.get("all-bytes"), undefined);
      await c.delete("never-there"); // no error
    } finally {
      await c.close();
    }
  });
});

Deno.test("values survive close and reopen", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    const a = await SqliteStorageClient.open(options(path));
    await a.set("checkpoint", enc.encode("offset=42"));
    await a.close();
    const b = await SqliteStorageClient.open(options(path));
    try {
      assert.deepEqual(await b.get("checkpoint"), enc.encode("offset=42"));
    } finally {
      await b.close();
    }
  });
});

Deno.test("batch applies operations in order and fills get results", async () => {
  await withDir(async (dir) => {
    const c = await SqliteStorageClient.open(options(join(dir, "db.sqlite")));
    try {
      await c.set("old", enc.encode("1"));
      type GetOp = StorageOperation & { type: "get" };
      const getOld: GetOp = { type: "get", key: "old" };
      const getNew: GetOp = { type: "get", key: "new" };
      const getDeleted: GetOp = { type: "get", key: "old" };
      const getNever: GetOp = { type: "get", key: "never", value: enc.encode("stale") };
      await c.batch([
        getOld,
        { type: "set", key: "new", value: enc.encode("2") },
        getNew,
        { type: "delete", key: "old" },
        getDeleted,
        getNever,
      ]);
      assert.deepEqual(getOld.value, enc.encode("1"));
      assert.deepEqual(getNew.value, enc.encode("2"), "a get sees the set before it");
      assert.equal(getDeleted.value, undefined, "a get sees the delete before it");
      assert.equal(getNever.value, undefined, "a missing key clears the value");
      assert.equal(await c.get("old"), undefined);
      await c.batch([]); // an empty batch is fine
    } finally {
      await c.close();
    }
  });
});

Deno.test("a batch with an invalid operation applies nothing and rejects with a TypeError", async () => {
  await withDir(async (dir) => {
    const c = await SqliteStorageClient.open(options(join(dir, "db.sqlite")));
    try {
      const bad = [
        { type: "set", key: "a", value: enc.encode("1") },
        { type: "set", key: "b", value: "not bytes" },
      ] as unknown as StorageOperation[];
      await assert.rejects(c.batch(bad), (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /Storage values must be Uint8Array: got string for key "b"/);
        return true;
      });
      assert.equal(await c.get("a"), undefined);
      await assert.rejects(
        c.batch([{ type: "rename", key: "a" }] as unknown as StorageOperation[]),
        /Unknown storage operation type "rename"/,
      );
      await assert.rejects(c.set(1 as unknown as string, enc.encode("x")), TypeError);
      await assert.rejects(c.set("k", null as unknown as Uint8Array), /got null/);
    } finally {
      await c.close();
    }
  });
});

Deno.test("a closed client rejects every call; close is idempotent", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    const c = await SqliteStorageClient.open(options(path));
    await c.close();
    await c.close();
    for (
      const p of [
        c.get("k"),
        c.set("k", enc.encode("v")),
        c.delete("k"),
        c.batch([{ type: "get", key: "k" }]),
      ]
    ) {
      await assert.rejects(p, new RegExp(`Storage client for "${path}" is closed`));
    }
  });
});

Deno.test("the database file is 0600, in WAL mode with exclusive locking", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    const c = await SqliteStorageClient.open(options(path));
    try {
      await c.set("k", enc.encode("v"));
      assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
      assert.equal(Deno.statSync(path + "-wal").mode! & 0o777, 0o600);
      const s = c.stats();
      assert.equal(s.journalMode, "wal");
      assert.equal(s.lockingMode, "exclusive");
      assert.equal(s.autoVacuum, 2);
      assert.equal(s.synchronous, 1, "fsync: false is synchronous=NORMAL");
    } finally {
      await c.close();
    }
  });
});

Deno.test("fsync: true sets synchronous=FULL", async () => {
  await withDir(async (dir) => {
    const c = await SqliteStorageClient.open(options(join(dir, "db.sqlite"), { fsync: true }));
    try {
      assert.equal(c.stats().synchronous, 2);
    } finally {
      await c.close();
    }
  });
});

Deno.test("a second holder of the file fails after timeout with an error naming the file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    await makeDatabase(path, 1, 10); // an existing database: opening it writes nothing
    const first = await SqliteStorageClient.open(options(path));
    try {
      const started = Date.now();
      await assert.rejects(
        SqliteStorageClient.open(options(path, { timeoutMs: 150 })),
        (e: Error) => {
          assert.ok(e instanceof DatabaseLockedError);
          assert.match(
            e.message,
            new RegExp(`Database file "${path}" is in use by another process`),
          );
          assert.match(e.message, /after 150ms \("timeout"\)/);
          return true;
        },
      );
      assert.ok(Date.now() - started >= 140, "it waited for the timeout");
      await first.set("k", enc.encode("first"));
      assert.deepEqual(await first.get("k"), enc.encode("first"), "the holder is unaffected");
    } finally {
      await first.close();
    }
  });
});

Deno.test("timeout: 0 waits until the other holder lets go, without blocking the event loop", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    const first = await SqliteStorageClient.open(options(path));
    await first.set("k", enc.encode("from first"));
    let opened = false;
    const second = SqliteStorageClient.open(options(path, { timeoutMs: 0 })).then((c) => {
      opened = true;
      return c;
    });
    await new Promise((r) => setTimeout(r, 150)); // timers still run while it waits
    assert.equal(opened, false);
    await first.close();
    const c = await second;
    try {
      assert.deepEqual(await c.get("k"), enc.encode("from first"));
    } finally {
      await c.close();
    }
  });
});

async function makeDatabase(path: string, n: number, size: number): Promise<void> {
  const c = await SqliteStorageClient.open(options(path));
  for (let i = 0; i < n; i++) await c.set(`k${i}`, bytes(size, i + 1));
  await c.close();
}

Deno.test("a corrupt file is an error naming the file and recreate, and is left as it was", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    const garbage = enc.encode("this is not a database ".repeat(400));
    Deno.writeFileSync(path, garbage);
    await assert.rejects(SqliteStorageClient.open(options(path)), (e: Error) => {
      assert.ok(e instanceof DatabaseCorruptError);
      assert.match(e.message, new RegExp(`Database file "${path}" is corrupt`));
      assert.match(e.message, /set "recreate: true"/);
      return true;
    });
    assert.deepEqual(Deno.readFileSync(path), garbage);
  });
});

Deno.test("a truncated file is detected by the integrity check", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    await makeDatabase(path, 200, 3000);
    const size = Deno.statSync(path).size;
    assert.ok(size > 100_000);
    Deno.truncateSync(path, Math.floor(size / 2));
    await assert.rejects(SqliteStorageClient.open(options(path)), DatabaseCorruptError);
  });
});

Deno.test("a damaged page in the middle is detected at open", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    await makeDatabase(path, 200, 3000);
    const f = Deno.openSync(path, { write: true });
    f.seekSync(4096 * 5, Deno.SeekMode.Start);
    f.writeSync(new Uint8Array(4096).fill(0x55));
    f.close();
    await assert.rejects(SqliteStorageClient.open(options(path)), DatabaseCorruptError);
  });
});

Deno.test("recreate: true moves a corrupt file aside with a warning and starts empty", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    await makeDatabase(path, 200, 3000);
    Deno.truncateSync(path, 4096 * 3);
    const damaged = Deno.readFileSync(path);
    const { settings, lines } = testSettings();
    const c = await SqliteStorageClient.open(
      options(path, { recreate: true, logger: settings.logger }),
    );
    try {
      assert.equal(await c.get("k1"), undefined, "starts empty");
      await c.set("k1", enc.encode("fresh"));
      assert.deepEqual(await c.get("k1"), enc.encode("fresh"));
      const warn = lines.find((l) => l.level === "warn");
      assert.ok(warn, "a warning is logged");
      assert.match(warn.msg, /corrupt: moved it aside/);
      const backup = warn.backup as string;
      assert.match(backup, /db\.sqlite\.\d{8}T\d{6}Z\.backup$/);
      assert.deepEqual(Deno.readFileSync(backup), damaged, "the damaged file is kept for recovery");
    } finally {
      await c.close();
    }
  });
});

Deno.test("moveAside() renames the database with its WAL and shm so none is reused", async () => {
  await withDir((dir) => {
    const path = join(dir, "db.sqlite");
    Deno.writeFileSync(path, bytes(100, 1));
    Deno.writeFileSync(path + "-wal", bytes(100, 2));
    Deno.writeFileSync(path + "-shm", bytes(100, 3));
    const backup = moveAside(path);
    assert.match(backup, /^.*\/db\.sqlite\.\d{8}T\d{6}Z\.backup$/);
    assert.deepEqual(Deno.readFileSync(backup), bytes(100, 1));
    assert.deepEqual(Deno.readFileSync(backup + "-wal"), bytes(100, 2));
    assert.deepEqual(Deno.readFileSync(backup + "-shm"), bytes(100, 3));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      backup.slice(dir.length + 1),
      backup.slice(dir.length + 1) + "-shm",
      backup.slice(dir.length + 1) + "-wal",
    ]);
  });
});

Deno.test("compact() shrinks the file once data was deleted", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    const c = await SqliteStorageClient.open(
      options(path, { compaction: { maxTransactionSize: 64 } }),
    );
    try {
      for (let i = 0; i < 400; i++) await c.set(`item${i}`, bytes(10_000, i + 1));
      await c.set("keep", enc.encode("still here"));
      for (let i = 0; i < 400; i++) await c.delete(`item${i}`);
      const before = databaseBytes(path);
      assert.ok(before > 4 * MIB, `the file grew (${before} bytes)`);
      assert.ok(c.stats().freelistCount > 900);

      const result = await c.compact();
      assert.ok(result);
      const after = databaseBytes(path);
      assert.equal(result.afterBytes, after);
      assert.ok(after < 100_000, `the file shrank from ${before} to ${after} bytes`);
      assert.equal(c.stats().freelistCount, 0);
      assert.deepEqual(await c.get("keep"), enc.encode("still here"));
    } finally {
      await c.close();
    }
    assert.ok(Deno.statSync(path).size < 100_000, "still small after close");
  });
});

Deno.test("on_rebound compacts only after the file grew past the needed threshold and drained", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    const { settings, lines } = testSettings();
    const c = await SqliteStorageClient.open(options(path, {
      logger: settings.logger,
      compaction: {
        onRebound: true,
        checkIntervalMs: 20,
        reboundNeededThresholdMiB: 2,
        reboundTriggerThresholdMiB: 1,
      },
    }));
    const finished = () => lines.filter((l) => l.msg === "Finished compaction").length;
    try {
      for (let i = 0; i < 300; i++) await c.set(`q${i}`, bytes(10_000, i + 1));
      // Half drained: 1.5 MiB still live, above the trigger threshold.
      for (let i = 0; i < 150; i++) await c.delete(`q${i}`);
      await new Promise((r) => setTimeout(r, 200)); // ten check intervals
      assert.equal(finished(), 0, "no compaction while live data is above the trigger");
      assert.ok(c.stats().freelistCount > 300);

      for (let i = 150; i < 300; i++) await c.delete(`q${i}`);
      await waitFor(() => finished() === 1, "the rebound compaction");
      assert.ok(databaseBytes(path) < 200_000, `shrank to ${databaseBytes(path)} bytes`);
      assert.equal(c.stats().freelistCount, 0);
    } finally {
      await c.close();
    }
  });
});

Deno.test("a database without incremental vacuum is not compacted, with a warning", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "db.sqlite");
    const raw = new DatabaseSync(path);
    raw.exec("CREATE TABLE kv (k TEXT PRIMARY KEY NOT NULL, v BLOB NOT NULL)");
    raw.close();
    const { settings, lines } = testSettings();
    const c = await SqliteStorageClient.open(options(path, { logger: settings.logger }));
    try {
      assert.equal(await c.compact(), undefined);
      assert.ok(
        lines.some((l) => l.level === "warn" && /not created with incremental/.test(l.msg)),
      );
      await c.set("k", enc.encode("v")); // still usable
    } finally {
      await c.close();
    }
  });
});
