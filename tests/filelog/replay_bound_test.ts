/**
 * Bounded replay: the real collector (filelog with the container operator → capture
 * exporter, checkpoints in the real SQLite file_storage) drains a backlog of several files
 * and is SIGKILLed once half of it was exported. After a restart every line is exported,
 * and the lines exported twice are at most the records accepted since the last checkpoint
 * (CHECKPOINT_EVERY_RECORDS) plus the batches in flight — not the whole drain so far
 * (without checkpoints during a poll: all of it).
 */
import assert from "node:assert/strict";
import { BATCH_RECORDS, CHECKPOINT_EVERY_RECORDS } from "../../receivers/filelog/receiver.ts";
import { READ_CHUNK } from "../../receivers/filelog/reader.ts";
import { IN_FLIGHT } from "../../pkg/stanza/adapter/receiver_adapter.ts";
import { CRI_TIME, exitStatus, sleep, startCollector, writeKillConfig } from "./kill_collector.ts";

const FILES = 4;
const LINES = 50_000;
/** The shortest line written (CRI prefix and body). */
const MIN_LINE_BYTES = 80;

async function size(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

Deno.test("SIGKILL while draining a backlog: lines sent again are bounded by the checkpoint interval in records", async () => {
  const dir = await Deno.makeTempDir({ prefix: "filelog_replay_bound_" });
  const out = `${dir}/exported.txt`;
  await writeKillConfig(dir);
  let bodyBytes = 0;
  for (let f = 0; f < FILES; f++) {
    const podDir = `${dir}/pods/default_web-${f}_0f6c7a2e-1b2c-4d5e-8f90-12345678900${f}/web`;
    await Deno.mkdir(podDir, { recursive: true });
    const lines: string[] = [];
    for (let i = 0; i < LINES; i++) {
      const body = `file ${f} line ${i} ${"x".repeat(40 + (i % 40))}`;
      bodyBytes += body.length + 1;
      lines.push(`${CRI_TIME} stdout F ${body}\n`);
    }
    await Deno.writeTextFile(`${podDir}/0.log`, lines.join(""));
  }
  try {
    const first = await startCollector(dir);
    const killBy = Date.now() + 60_000;
    while (await size(out) < bodyBytes / 2 && Date.now() < killBy) await sleep(10);
    first.child.kill("SIGKILL");
    assert.equal(
      (await exitStatus(first)).signal,
      "SIGKILL",
      `the drain ended before the kill: ${await first.stderr}`,
    );
    const atKill = (await Deno.readTextFile(out)).split("\n").length - 1;

    const second = await startCollector(dir);
    const deadline = Date.now() + 60_000;
    // Each file is read in order: once its last line is out, all of it is.
    const lasts = Array.from({ length: FILES }, (_, f) => `file ${f} line ${LINES - 1} `);
    while (Date.now() < deadline) {
      const text = await Deno.readTextFile(out);
      if (lasts.every((l) => text.includes(l))) break;
      await sleep(200);
    }
    second.child.kill("SIGTERM");
    assert.equal((await exitStatus(second)).code, 0, await second.stderr);

    const exported = (await Deno.readTextFile(out)).split("\n").filter((l) => l !== "");
    const unique = new Set(exported);
    assert.equal(unique.size, FILES * LINES, "every line exported");
    const again = exported.length - unique.size;
    // Accepted since the last checkpoint, plus a batch whose checkpoint was being written
    // and the batches in flight; a batch is BATCH_RECORDS plus at most one read's lines.
    const batch = BATCH_RECORDS + Math.ceil(READ_CHUNK / MIN_LINE_BYTES);
    const bound = CHECKPOINT_EVERY_RECORDS + (IN_FLIGHT + 1) * batch;
    console.log(
      `killed after ${atKill} of ${FILES * LINES} lines; ${again} sent again (bound ${bound})`,
    );
    assert.ok(again <= bound, `${again} lines sent again, more than ${bound}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
