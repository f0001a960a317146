/**
 * One process per database file: a second process waits up to `timeout` and then fails
 * with an error naming the file; a killed holder releases the file with its data intact.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ComponentId } from "../../core/component.ts";
import { FileStorageExtension } from "../../extensions/file_storage/extension.ts";
import { testHost, testSettings, validConfig } from "../../extensions/file_storage/_testing.ts";
import { childArgs, ChildProcess } from "./_helpers.ts";

const filelog = new ComponentId("filelog");

function extension(dir: string, timeout: string): FileStorageExtension {
  return new FileStorageExtension(
    testSettings().settings,
    validConfig({ directory: dir, timeout }),
  );
}

Deno.test("a second process fails after timeout naming the file; kill -9 of the holder frees it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "file_storage_lock_" });
  const child = new ChildProcess(Deno.execPath(), childArgs("hold", { directory: dir }));
  const ext = extension(dir, "200ms");
  try {
    await child.waitForLine((l) => l === "ready");
    await ext.start(testHost);
    const path = join(dir, "receiver_filelog_.sqlite");
    await assert.rejects(ext.getClient("receiver", filelog), (e: Error) => {
      assert.match(e.message, new RegExp(`Database file "${path}" is in use by another process`));
      assert.match(e.message, /after 200ms \("timeout"\)/);
      return true;
    });

    const status = await child.kill("SIGKILL");
    assert.equal(status.signal, "SIGKILL");
    const client = await ext.getClient("receiver", filelog);
    const held = await client.get("held");
    assert.equal(new TextDecoder().decode(held), String(child.process.pid));
  } finally {
    await child.kill();
    await ext.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a waiting process gets the file as soon as the holder dies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "file_storage_lock_" });
  const child = new ChildProcess(Deno.execPath(), childArgs("hold", { directory: dir }));
  const ext = extension(dir, "20s");
  try {
    await child.waitForLine((l) => l === "ready");
    await ext.start(testHost);
    let opened = false;
    const waiting = ext.getClient("receiver", filelog).then((c) => {
      opened = true;
      return c;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(opened, false, "still waiting while the other process holds the file");
    await child.kill("SIGKILL");
    const client = await waiting;
    assert.ok(await client.get("held"));
  } finally {
    await child.kill();
    await ext.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
