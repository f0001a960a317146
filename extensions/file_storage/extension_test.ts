import assert from "node:assert/strict";
import { join } from "node:path";
import { ComponentId } from "../../core/component.ts";
import { getStorageClient } from "../../core/storage.ts";
import { fileStorageFactory } from "./mod.ts";
import { FileStorageExtension } from "./extension.ts";
import { SqliteStorageClient } from "./sqlite_client.ts";
import { databaseBytes } from "./database.ts";
import { permissionDeniedMessage } from "./directory.ts";
import { bytes, testHost, testSettings, validConfig } from "./_testing.ts";

const enc = new TextEncoder();
const filelog = new ComponentId("filelog");
const otlphttp = new ComponentId("otlphttp");

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "file_storage_ext_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function extension(config: Record<string, unknown>, name = "") {
  const { settings, lines } = testSettings(name);
  const ext = fileStorageFactory.create(settings, validConfig(config)) as FileStorageExtension;
  return { ext, lines };
}

Deno.test("start() fails on a missing directory, naming it and create_directory", async () => {
  await withDir(async (dir) => {
    const missing = join(dir, "file-log-receiver");
    const { ext } = extension({ directory: missing });
    await assert.rejects(ext.start(testHost), (e: Error) => {
      assert.match(e.message, new RegExp(`Directory "${missing}" does not exist`));
      assert.match(e.message, /create_directory: true/);
      return true;
    });
    await ext.shutdown(); // safe after a failed start
  });
});

Deno.test("start() with create_directory creates parents with directory_permissions", async () => {
  await withDir(async (dir) => {
    const target = join(dir, "telemetry-log-agent", "file-log-receiver");
    const { ext, lines } = extension({
      directory: target,
      create_directory: true,
      directory_permissions: "0770",
    });
    await ext.start(testHost);
    try {
      assert.equal(Deno.statSync(target).mode! & 0o7777, 0o770);
      assert.equal(Deno.statSync(join(dir, "telemetry-log-agent")).mode! & 0o7777, 0o770);
      assert.ok(lines.some((l) => l.msg === "Created the storage directory"));
    } finally {
      await ext.shutdown();
    }
  });
});

Deno.test("getClient() gives each component its own file named as upstream plus .sqlite", async () => {
  await withDir(async (dir) => {
    const { ext } = extension({ directory: dir });
    await ext.start(testHost);
    try {
      const host = {
        ...testHost,
        getExtension: (id: string) => id === "file_storage" ? ext : undefined,
      };
      const receiver = await getStorageClient(host, "file_storage", "receiver", filelog);
      const queue = await getStorageClient(host, "file_storage", "exporter", otlphttp, "logs");
      const named = await ext.getClient("receiver", new ComponentId("filelog", "audit"));
      await receiver.set("k", enc.encode("receiver"));
      await queue.set("k", enc.encode("queue"));
      assert.deepEqual(await receiver.get("k"), enc.encode("receiver"));
      assert.deepEqual(await queue.get("k"), enc.encode("queue"));
      assert.equal(await named.get("k"), undefined);
      const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
        n.endsWith(".sqlite")
      );
      assert.deepEqual(files.sort(), [
        "exporter_otlphttp__logs.sqlite",
        "receiver_filelog_.sqlite",
        "receiver_filelog_audit.sqlite",
      ]);
    } finally {
      await ext.shutdown();
    }
  });
});

Deno.test("getClient() before start rejects with the extension and component named", async () => {
  const { ext } = extension({ directory: "/nonexistent" }, "agent");
  await assert.rejects(
    ext.getClient("receiver", filelog),
    /Storage extension "file_storage\/agent" is not running: it must be started before receiver "filelog"/,
  );
});

Deno.test("the same client cannot be open twice; after close it opens again with its data", async () => {
  await withDir(async (dir) => {
    const { ext } = extension({ directory: dir });
    await ext.start(testHost);
    try {
      const first = await ext.getClient("exporter", otlphttp, "logs");
      await first.set("qmv0", enc.encode("meta"));
      await assert.rejects(
        ext.getClient("exporter", otlphttp, "logs"),
        /Storage for exporter "otlphttp" \(storage "logs"\) is already open/,
      );
      await first.close();
      const again = await ext.getClient("exporter", otlphttp, "logs");
      assert.deepEqual(await again.get("qmv0"), enc.encode("meta"));
    } finally {
      await ext.shutdown();
    }
  });
});

Deno.test("two concurrent requests for one client: one gets it, the other fails at once", async () => {
  await withDir(async (dir) => {
    const { ext } = extension({ directory: dir, timeout: "10s" });
    await ext.start(testHost);
    try {
      const started = Date.now();
      const [a, b] = await Promise.allSettled([
        ext.getClient("receiver", filelog),
        ext.getClient("receiver", filelog),
      ]);
      assert.equal(a.status, "fulfilled");
      assert.equal(b.status, "rejected");
      assert.match(String(b.reason), /Storage for receiver "filelog" is already open/);
      assert.ok(Date.now() - started < 5000, "it did not wait for the lock timeout");
    } finally {
      await ext.shutdown();
    }
  });
});

Deno.test("shutdown() closes open clients and releases their files", async () => {
  await withDir(async (dir) => {
    const a = extension({ directory: dir });
    await a.ext.start(testHost);
    const client = await a.ext.getClient("receiver", filelog);
    await client.set("file_input.knownFiles0", enc.encode("{}"));
    await a.ext.shutdown();
    await assert.rejects(client.get("file_input.knownFiles0"), /is closed/);
    await a.ext.shutdown(); // idempotent

    const b = extension({ directory: dir, timeout: "50ms" });
    await b.ext.start(testHost);
    try {
      const reopened = await b.ext.getClient("receiver", filelog);
      assert.deepEqual(await reopened.get("file_input.knownFiles0"), enc.encode("{}"));
    } finally {
      await b.ext.shutdown();
    }
  });
});

Deno.test("two instances on one directory: the second fails after timeout naming the file", async () => {
  await withDir(async (dir) => {
    const a = extension({ directory: dir }, "a");
    const b = extension({ directory: dir, timeout: "100ms" }, "b");
    await a.ext.start(testHost);
    await b.ext.start(testHost);
    try {
      await a.ext.getClient("receiver", filelog);
      await assert.rejects(
        b.ext.getClient("receiver", filelog),
        new RegExp(`"${join(dir, "receiver_filelog_.sqlite")}" is in use by another process`),
      );
    } finally {
      await a.ext.shutdown();
      await b.ext.shutdown();
    }
  });
});

Deno.test("an upstream bbolt file with the same base name is left untouched, with a warning", async () => {
  await withDir(async (dir) => {
    const bbolt = join(dir, "receiver_filelog_");
    const content = bytes(8192, 3);
    Deno.writeFileSync(bbolt, content);
    const { ext, lines } = extension({ directory: dir });
    await ext.start(testHost);
    try {
      const c = await ext.getClient("receiver", filelog);
      await c.set("k", enc.encode("v"));
      assert.deepEqual(Deno.readFileSync(bbolt), content);
      const warn = lines.find((l) => l.level === "warn");
      assert.ok(warn);
      assert.match(warn.msg, /written by the upstream collector \(bbolt\); it is left untouched/);
      assert.equal(warn.upstream_file, bbolt);
    } finally {
      await ext.shutdown();
    }
  });
});

Deno.test("compaction.on_start shrinks a client's file when it is opened", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "exporter_otlphttp__logs.sqlite");
    const plain = extension({ directory: dir });
    await plain.ext.start(testHost);
    const q = await plain.ext.getClient("exporter", otlphttp, "logs");
    for (let i = 0; i < 300; i++) await q.set(String(i), bytes(10_000, i + 1));
    for (let i = 1; i < 300; i++) await q.delete(String(i));
    await plain.ext.shutdown();
    const before = databaseBytes(path);
    assert.ok(before > 2_500_000, `grown to ${before} bytes`);

    const compacting = extension({ directory: dir, compaction: { on_start: true } });
    await compacting.ext.start(testHost);
    try {
      const c = await compacting.ext.getClient("exporter", otlphttp, "logs");
      const after = databaseBytes(path);
      assert.ok(after < 100_000, `shrank from ${before} to ${after} bytes`);
      assert.deepEqual(await c.get("0"), bytes(10_000, 1));
      assert.ok(compacting.lines.some((l) => l.msg === "Finished compaction"));
    } finally {
      await compacting.ext.shutdown();
    }
  });
});

Deno.test("compaction.cleanup_on_start removes leftover tempdb files only", async () => {
  await withDir(async (dir) => {
    const tmp = join(dir, "compaction");
    Deno.mkdirSync(tmp);
    Deno.writeFileSync(join(tmp, "tempdb123456"), bytes(10));
    Deno.writeFileSync(join(tmp, "tempdb"), bytes(10));
    Deno.writeFileSync(join(tmp, "keep.sqlite"), bytes(10));
    const { ext } = extension({
      directory: dir,
      compaction: { directory: tmp, cleanup_on_start: true },
    });
    await ext.start(testHost);
    await ext.shutdown();
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), ["keep.sqlite"]);
  });
});

// Created at load time: Deno.test permissions are fixed when the test is declared.
const permDir = Deno.makeTempDirSync({ prefix: "file_storage_perm_test_" });

Deno.test({
  name: "works with read and write permission on its directory only (no --allow-all)",
  permissions: { read: [permDir], write: [permDir], sys: false, env: false, run: false },
  async fn() {
    try {
      const dir = join(permDir, "state");
      const { ext } = extension({
        directory: dir,
        create_directory: true,
        compaction: { on_start: true },
      });
      await ext.start(testHost);
      try {
        const c = await ext.getClient("exporter", otlphttp, "logs");
        for (let i = 0; i < 50; i++) await c.set(`k${i}`, bytes(10_000, i + 1));
        for (let i = 1; i < 50; i++) await c.delete(`k${i}`);
        const before = databaseBytes(join(dir, "exporter_otlphttp__logs.sqlite"));
        assert.ok(c instanceof SqliteStorageClient);
        const compacted = await c.compact();
        assert.ok(compacted, "incremental vacuum needs no ATTACH, so no --allow-all");
        assert.ok(databaseBytes(join(dir, "exporter_otlphttp__logs.sqlite")) < before);
        assert.deepEqual(await c.get("k0"), bytes(10_000, 1));
      } finally {
        await ext.shutdown();
      }
      // Without --allow-sys the messages still say what they can.
      assert.match(
        permissionDeniedMessage(dir, "writing into directory", "directory"),
        /as uid unknown \(grant --allow-sys=uid,gid to show it\)/,
      );
    } finally {
      Deno.removeSync(permDir, { recursive: true });
    }
  },
});
