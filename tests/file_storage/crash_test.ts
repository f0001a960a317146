/**
 * Kill -9 in the middle of thousands of `batch` calls: after a restart every acknowledged
 * batch is there and none is half-applied; the next run resumes where the last one stopped.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ComponentId } from "../../core/component.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { defaultFileStorageConfig } from "../../extensions/file_storage/config.ts";
import { SqliteStorageClient } from "../../extensions/file_storage/sqlite_client.ts";
import { clientFileName } from "../../extensions/file_storage/file_name.ts";
import { childArgs, ChildProcess } from "./_helpers.ts";

const dec = new TextDecoder();

async function readNumber(c: SqliteStorageClient, key: string): Promise<number | undefined> {
  const v = await c.get(key);
  return v === undefined ? undefined : Number(dec.decode(v));
}

/** Checks the invariants the child's batches keep; returns the last applied batch. */
async function verify(path: string, lastAck: number): Promise<number> {
  const c = await SqliteStorageClient.open({
    path,
    timeoutMs: 1000,
    fsync: false,
    recreate: false,
    compaction: defaultFileStorageConfig().compaction,
    logger: nopLogger(),
  });
  try {
    const n = (await readNumber(c, "n")) ?? 0;
    assert.ok(n >= lastAck, `acknowledged batch ${lastAck} is missing: stored n = ${n}`);
    // One batch at a time: at most the one in flight committed without its ack.
    assert.ok(
      n <= lastAck + 1,
      `stored n = ${n} is ahead of the last ack ${lastAck} by more than one`,
    );
    for (const key of ["a", "b", "c"]) {
      assert.equal(await readNumber(c, key), n, `"${key}" belongs to the same batch as n`);
    }
    assert.equal(await readNumber(c, `d${n}`), n);
    assert.equal(await c.get(`d${n - 1}`), undefined, "the batch's delete applied with its sets");
    assert.equal(await c.get(`h${n + 1}`), undefined);
    // Every batch ever acknowledged, across all runs, left its h<i>.
    for (let i = 1; i <= n; i++) assert.equal(await readNumber(c, `h${i}`), i);
    const stats = c.stats();
    assert.equal(stats.journalMode, "wal");
    return n;
  } finally {
    await c.close();
  }
}

async function killLoop(fsync: boolean, rounds: number, perRound: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "file_storage_crash_" });
  const path = join(dir, clientFileName("receiver", new ComponentId("filelog")));
  try {
    let stored = 0;
    for (let round = 0; round < rounds; round++) {
      const child = new ChildProcess(
        Deno.execPath(),
        childArgs("batches", { directory: dir, fsync }),
      );
      try {
        const ready = await child.waitForLine((l) => l.startsWith("ready "));
        assert.equal(Number(ready.slice(6)), stored, "the child resumed exactly where it stopped");
        // Vary the moment of the kill so it lands at different points of a batch.
        const target = stored + perRound + Math.floor(Math.random() * perRound);
        await child.waitForLine((l) => l.startsWith("ack ") && Number(l.slice(4)) >= target);
      } finally {
        const status = await child.kill("SIGKILL");
        assert.equal(status.signal, "SIGKILL", `the child was killed, stderr: ${child.stderr}`);
      }
      const acks = child.lines.filter((l) => l.startsWith("ack "));
      const lastAck = Number(acks[acks.length - 1]!.slice(4));
      stored = await verify(path, lastAck);
    }
    assert.ok(stored >= rounds * perRound, `ran ${stored} batches in total`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("kill -9 during batches (fsync: false): acknowledged batches survive, none half-applied", async () => {
  await killLoop(false, 4, 1500);
});

Deno.test("kill -9 during batches (fsync: true): acknowledged batches survive, none half-applied", async () => {
  await killLoop(true, 3, 300);
});
