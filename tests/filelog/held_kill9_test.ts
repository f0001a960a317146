/**
 * kill -9 while operators hold data: the real collector (filelog with the `container`
 * operator joining CRI `P`/`F` pieces and `recombine` joining lines up to an `END` line → capture
 * exporter, checkpoints in the real SQLite file_storage) is SIGKILLed each time right after
 * it read, and checkpointed past, a line that an operator still holds: a `P` piece (held by
 * `container`) or the first line of a record (held by `recombine` until its `END` line). The restarted collector must read those lines again: every record comes out
 * whole at least once. A checkpoint that ignored held positions would lose the held lines
 * and emit the rest of the record torn.
 */
import assert from "node:assert/strict";
import {
  CRI_TIME,
  exitStatus,
  exportedLines,
  sleep,
  startCollector,
  writeKillConfig,
} from "./kill_collector.ts";

const ROUNDS = 4;
/** Time for several polls (50 ms apart) and their checkpoints after a read. */
const SETTLE_MS = 400;
/** recombine joins lines up to an `END` line and holds a record's first line until then. */
const RECOMBINE = `      - type: recombine
        combine_field: body
        combine_with: " | "
        is_last_entry: body matches "END$"
        force_flush_period: 1h
`;

Deno.test("kill -9 while container holds a P piece or recombine holds a record: every record is exported whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "filelog_held_kill9_" });
  const podDir = `${dir}/pods/default_web-1_0f6c7a2e-1b2c-4d5e-8f90-123456789abc/web`;
  await Deno.mkdir(podDir, { recursive: true });
  await writeKillConfig(dir, { moreOperators: RECOMBINE });
  const log = `${podDir}/0.log`;
  const out = `${dir}/exported.txt`;
  const write = (tag: "P" | "F", text: string) =>
    Deno.writeTextFile(log, `${CRI_TIME} stdout ${tag} ${text}\n`, { append: true });
  const stderrs: string[] = [];
  const start = () => startCollector(dir, stderrs);
  const until = async (record: string): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while (!(await exportedLines(out)).includes(record)) {
      if (Date.now() > deadline) {
        throw new Error(
          `never exported: ${record}\n${(await exportedLines(out)).join("\n")}\n${
            stderrs.at(-1) ?? ""
          }`,
        );
      }
      await sleep(20);
    }
  };
  const expected: string[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const collector = await start();
      const { child } = collector;
      // Record a, whole: a P piece joined by container, then lines joined by recombine.
      await write("F", `${r}a one`);
      await write("P", `${r}a two-`);
      await write("F", `joined`);
      await write("F", `${r}a END`);
      expected.push(`${r}a one | ${r}a two-joined | ${r}a END`);
      await until(expected.at(-1)!);
      if (r % 2 === 0) {
        // Only container holds (a P piece); the checkpoint must stay before it.
        await write("P", `${r}b piece-`);
        await sleep(SETTLE_MS);
        child.kill("SIGKILL");
        await write("F", `rest`);
        await write("F", `${r}b END`);
        expected.push(`${r}b piece-rest | ${r}b END`);
      } else {
        // Only recombine holds (the first line of a record).
        await write("F", `${r}b one`);
        await sleep(SETTLE_MS);
        child.kill("SIGKILL");
        await write("F", `${r}b END`);
        expected.push(`${r}b one | ${r}b END`);
      }
      const status = await exitStatus(collector);
      assert.equal(status.signal, "SIGKILL", `round ${r} ended on its own: ${stderrs.at(-1)}`);
    }
    // A last clean run reads the rest.
    const last = await start();
    await until(expected.at(-1)!);
    last.child.kill("SIGTERM");
    assert.equal((await exitStatus(last)).code, 0, stderrs.at(-1));

    const got = await exportedLines(out);
    const missing = expected.filter((e) => !got.includes(e));
    const torn = got.filter((g) => !expected.includes(g));
    assert.deepEqual(missing, [], `records lost or torn; exported: ${got.join("\n")}`);
    assert.deepEqual(torn, [], "records that were never written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
