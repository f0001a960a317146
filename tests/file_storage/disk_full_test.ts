/**
 * Disk full: `set` rejects with an error that says so, nothing written earlier is lost,
 * a failed batch leaves nothing behind, and the extension works again once there is space.
 *
 * Two ways to run out of space: a 2 MiB tmpfs (needs root and mount, as on CI), and a
 * file-size limit (`ulimit -f`, any user) where the kernel refuses writes with EFBIG.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ComponentId } from "../../core/component.ts";
import { FileStorageExtension } from "../../extensions/file_storage/extension.ts";
import { testHost, testSettings, validConfig } from "../../extensions/file_storage/_testing.ts";
import { canMountTmpfs, childArgs, ChildProcess, hasCommand } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const filelog = new ComponentId("filelog");
const mountable = canMountTmpfs();

function run(cmd: string, ...args: string[]): void {
  const r = new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).outputSync();
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(r.stderr)}`);
}

/** Writes into `path` until the filesystem refuses. */
function fillUp(path: string): void {
  const f = Deno.openSync(path, { write: true, create: true });
  const chunk = new Uint8Array(4096);
  try {
    for (;;) f.writeSync(chunk);
  } catch (e) {
    assert.match((e as Error).message, /No space left on device/);
  } finally {
    f.close();
  }
}

Deno.test({
  name:
    "disk full on a small tmpfs: set rejects, earlier data stays, works again after space frees",
  ignore: !mountable,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "file_storage_full_" });
    const mnt = join(root, "mnt");
    Deno.mkdirSync(mnt);
    run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt);
    const dir = join(mnt, "state");
    const open = () =>
      new FileStorageExtension(
        testSettings().settings,
        validConfig({ directory: dir, create_directory: true }),
      );
    let ext = open();
    try {
      await ext.start(testHost);
      let client = await ext.getClient("receiver", filelog);
      for (let i = 0; i < 20; i++) await client.set(`early${i}`, enc.encode(`value ${i}`));

      fillUp(join(mnt, "filler"));
      const big = new Uint8Array(256 * 1024).fill(1);
      await assert.rejects(client.set("big", big), (e: Error) => {
        assert.match(e.message, /set on ".*receiver_filelog_\.sqlite" failed: the disk is full/);
        assert.match(e.message, /earlier data is intact; free space on the filesystem/);
        return true;
      });
      await assert.rejects(
        client.batch([
          { type: "set", key: "part-1", value: enc.encode("small") },
          { type: "set", key: "part-2", value: big },
        ]),
        /batch on .* failed: the disk is full/,
      );
      assert.equal(await client.get("big"), undefined);
      assert.equal(await client.get("part-1"), undefined, "a failed batch applies nothing");
      for (let i = 0; i < 20; i++) {
        assert.equal(dec.decode(await client.get(`early${i}`)), `value ${i}`);
      }

      Deno.removeSync(join(mnt, "filler"));
      await client.set("big", big);
      await client.batch([{ type: "set", key: "after", value: enc.encode("space is back") }]);
      assert.deepEqual(await client.get("big"), big);

      // And after a restart everything acknowledged is there.
      await ext.shutdown();
      ext = open();
      await ext.start(testHost);
      client = await ext.getClient("receiver", filelog);
      assert.equal(dec.decode(await client.get("early19")), "value 19");
      assert.equal(dec.decode(await client.get("after")), "space is back");
      assert.equal(await client.get("part-1"), undefined);
    } finally {
      await ext.shutdown();
      run("umount", mnt);
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "file-size limit (ulimit -f): set rejects with a clear error, earlier data stays, works without the limit",
  ignore: !hasCommand("bash"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "file_storage_ulimit_" });
    try {
      // SIGXFSZ ignored: writes past the limit fail with EFBIG instead of killing the process.
      const deno = Deno.execPath().replaceAll("'", "'\\''");
      const args = childArgs("fill", { directory: dir }).map((a) =>
        `'${a.replaceAll("'", "'\\''")}'`
      );
      const child = new ChildProcess("bash", [
        "-c",
        `trap '' XFSZ; ulimit -f 2048; exec '${deno}' ${args.join(" ")}`,
      ]);
      const status = await child.wait();
      assert.equal(status.code, 0, `child failed: ${child.stderr}`);
      const line = (p: string) =>
        child.lines.find((l) => l.startsWith(p + " "))?.slice(p.length + 1);
      assert.equal(line("early"), "20");
      const error = JSON.parse(line("error") ?? "null") as string;
      assert.match(
        error,
        /set on ".*receiver_filelog_\.sqlite" failed: (disk I\/O error|the disk is full)/,
      );
      assert.match(error, /file-size limit \(ulimit -f\)|free space/);
      assert.equal(line("intact"), "20", "earlier data is readable after the failure");
      const acked = Number(line("acked"));
      assert.ok(acked >= 1 && acked < 8, `${acked} big values fit under 2 MiB`);

      // Without the limit (space is back) the same file works and holds every acknowledged set.
      const ext = new FileStorageExtension(
        testSettings().settings,
        validConfig({ directory: dir }),
      );
      await ext.start(testHost);
      try {
        const client = await ext.getClient("receiver", filelog);
        for (let i = 0; i < 20; i++) {
          assert.equal(dec.decode(await client.get(`early${i}`)), `value ${i}`);
        }
        for (let i = 0; i < acked; i++) {
          assert.equal((await client.get(`big${i}`))?.length, 256 * 1024);
        }
        await client.set(`big${acked}`, new Uint8Array(256 * 1024));
        await client.set("after", enc.encode("works"));
        assert.equal(dec.decode(await client.get("after")), "works");
      } finally {
        await ext.shutdown();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a read-only filesystem is named at start",
  ignore: !mountable,
  async fn() {
    const mnt = await Deno.makeTempDir({ prefix: "file_storage_ro_" });
    run("mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", mnt);
    try {
      const ext = new FileStorageExtension(
        testSettings().settings,
        validConfig({ directory: mnt }),
      );
      await assert.rejects(
        ext.start(testHost),
        new RegExp(`Directory "${mnt}" is on a read-only filesystem: mount it read-write`),
      );
    } finally {
      run("umount", mnt);
      await Deno.remove(mnt);
    }
  },
});
