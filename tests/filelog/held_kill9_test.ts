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
import { spawnCli } from "../fakes/run.ts";

const ROUNDS = 4;
const CRI_TIME = "2024-05-01T12:00:00.000000001Z";
/** Time for several polls (50 ms apart) and their checkpoints after a read. */
const SETTLE_MS = 400;

function config(dir: string): string {
  return `extensions:
  file_storage:
    directory: ${dir}/state
    create_directory: true
receivers:
  filelog:
    include: [${dir}/pods/*/*/*.log]
    start_at: beginning
    poll_interval: 50ms
    include_file_path: true
    storage: file_storage
    operators:
      - type: container
      - type: recombine
        combine_field: body
        combine_with: " | "
        is_last_entry: body matches "END$"
        force_flush_period: 1h
exporters:
  capture:
    file: ${dir}/exported.txt
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [filelog]
      exporters: [capture]
`;
}

async function exported(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("kill -9 while container holds a P piece or recombine holds a record: every record is exported whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "filelog_held_kill9_" });
  const podDir = `${dir}/pods/default_web-1_0f6c7a2e-1b2c-4d5e-8f90-123456789abc/web`;
  await Deno.mkdir(podDir, { recursive: true });
  await Deno.writeTextFile(`${dir}/config.yaml`, config(dir));
  const log = `${podDir}/0.log`;
  const out = `${dir}/exported.txt`;
  const write = (tag: "P" | "F", text: string) =>
    Deno.writeTextFile(log, `${CRI_TIME} stdout ${tag} ${text}\n`, { append: true });
  const stderrs: string[] = [];
  const start = async (): Promise<{ child: Deno.ChildProcess; logs: Promise<void> }> => {
    const child = await spawnCli(["--config", `${dir}/config.yaml`], {
      entry: "tests/fakes/test_main.ts",
    });
    child.stdout.cancel();
    return { child, logs: new Response(child.stderr).text().then((t) => void stderrs.push(t)) };
  };
  const until = async (record: string): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while (!(await exported(out)).includes(record)) {
      if (Date.now() > deadline) {
        throw new Error(
          `never exported: ${record}\n${(await exported(out)).join("\n")}\n${stderrs.at(-1) ?? ""}`,
        );
      }
      await sleep(20);
    }
  };
  const expected: string[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const { child, logs } = await start();
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
      const status = await child.status;
      await logs;
      assert.equal(status.signal, "SIGKILL", `round ${r} ended on its own: ${stderrs.at(-1)}`);
    }
    // A last clean run reads the rest.
    const { child, logs } = await start();
    await until(expected.at(-1)!);
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0, stderrs.at(-1));
    await logs;

    const got = await exported(out);
    const missing = expected.filter((e) => !got.includes(e));
    const torn = got.filter((g) => !expected.includes(g));
    assert.deepEqual(missing, [], `records lost or torn; exported: ${got.join("\n")}`);
    assert.deepEqual(torn, [], "records that were never written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
