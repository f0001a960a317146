/**
 * The topology with the agent as its DaemonSet runs it: uid 1000, gid 0, no supplementary
 * groups, no capabilities (`setpriv`), with the allow-lists the agent's config needs
 * (`permissions` on the same `--config`/`--set` the demo runs, plus the fake API's address,
 * which `permissions` asks for by a warning) — and its storage directory on a 16 MiB tmpfs
 * that is nearly full (48 KiB free) for 8 s of the run, with the agent SIGKILLed once while
 * it is (its restart fails while the disk is full and is retried, as kubelet does). After
 * recovery every line has arrived, enriched; duplicates are reported and bounded as in
 * `faults_test.ts`. Rotation pauses while the disk is full: a stalled agent that also dies
 * loses what kubelet rotated twice meanwhile (gzipped, no longer matched), as a dead one.
 *
 * Needs root (setpriv, mount): ignored otherwise.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Topology } from "../../demo/topology.ts";
import { agentCommand, type AgentHost, GID, makeHost, UID } from "../privilege/_agent.ts";
import { binaryPermissionFlags, repoPath } from "../fakes/run.ts";
import { drainAll, sleep } from "./_helpers.ts";

const MARGIN_MS = 5_000;

function run(cmd: string, ...args: string[]): { ok: boolean; out: string; err: string } {
  try {
    const r = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
    const dec = new TextDecoder();
    return { ok: r.success, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
  } catch (err) {
    return { ok: false, out: "", err: String(err) };
  }
}

function canMountTmpfs(): boolean {
  if (Deno.uid() !== 0 || !run("setpriv", "--version").ok) return false;
  const d = Deno.makeTempDirSync();
  try {
    const ok = run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d).ok;
    if (ok) run("umount", d);
    return ok;
  } finally {
    Deno.removeSync(d, { recursive: true });
  }
}

/** `mod.ts permissions` for the agent's command line, plus the fake API's address. */
async function agentFlags(
  t: Topology,
  args: string[],
  env: Record<string, string>,
): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...await binaryPermissionFlags(), repoPath("mod.ts"), "permissions", ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const flags = new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
    l.startsWith("--allow-")
  );
  assert.ok(out.success && flags.length > 0, new TextDecoder().decode(out.stderr));
  const kube = new URL(t.kubeUrl).host;
  return flags.map((f) => f.startsWith("--allow-net=") ? `${f},${kube}` : f);
}

Deno.test({
  name:
    "e2e: the agent as uid 1000/gid 0 without capabilities under its allow-lists, storage on a nearly full tmpfs",
  ignore: !canMountTmpfs(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const host: AgentHost = makeHost();
    let flags: string[] = [];
    const state = (t: Topology) => `${t.dir}/var/lib/telemetry-log-agent`;
    const t = await Topology.start({
      rate: 30,
      burstChance: 0.1,
      rotateBytes: 48 * 1024,
      prepare: async (t) => {
        const r = run("mount", "-t", "tmpfs", "-o", "size=16m,mode=1777", "tmpfs", state(t));
        assert.ok(r.ok, r.err);
        flags = await agentFlags(t, t.agentArgs(), t.agentEnv());
      },
      cleanup: async (t) => {
        run("umount", state(t));
        await Deno.remove(host.root, { recursive: true });
      },
      agentCommand: (_t, args, env) => Promise.resolve(agentCommand(host, flags, args, env)),
    });
    const faults: { what: string; start: number; end: number }[] = [];
    try {
      const posture = /Privilege posture\s+(\{.*\})/.exec(t.agent!.log)?.[1];
      assert.ok(posture, t.agent!.log);
      assert.equal(JSON.parse(posture).uid, UID);
      assert.equal(JSON.parse(posture).gid, GID);
      assert.match(JSON.parse(posture).deno, /read=restricted write=restricted net=restricted/);
      const created = await Deno.stat(`${state(t)}/file-log-receiver`);
      assert.equal(created.uid, UID);
      await sleep(4_000);

      // Fill the storage filesystem but 48 KiB for 8 s; kill the agent in the middle.
      // A full disk stalls the agent (no checkpoint, no queue write): like a dead agent, it
      // must not have kubelet rotate files twice meanwhile (see faults_test.ts).
      await t.command("pause-rotation");
      const start = Date.now();
      let ballast = { ok: false, out: "", err: "" };
      for (let i = 0; i < 10 && !ballast.ok; i++) {
        // The agent writes meanwhile: what is free can shrink between df and fallocate.
        const df = run("df", "-B1", "--output=avail", state(t));
        const avail = Number(df.out.trim().split("\n").at(-1));
        ballast = run(
          "fallocate",
          "-l",
          String(avail - (48 + 16 * i) * 1024),
          `${state(t)}/ballast`,
        );
      }
      assert.ok(ballast.ok, ballast.err);
      await sleep(4_000);
      await t.agent!.kill();
      // kubelet restarts a crashed container with a backoff: an agent that cannot open its
      // storage while the disk is full exits, and starts once space is freed.
      const freed = sleep(4_000).then(() => Deno.remove(`${state(t)}/ballast`));
      let failedStarts = 0;
      for (;;) {
        try {
          await t.startAgent();
          break;
        } catch (err) {
          failedStarts++;
          assert.match(String(err), /disk is full|No space left/, String(err));
          await sleep(1_000);
        }
      }
      await freed;
      await t.command("resume-rotation");
      faults.push({ what: "disk nearly full, agent killed", start, end: Date.now() });
      await sleep(3_000);

      const { written, records } = await drainAll(t, 90_000);
      assert.ok(t.agent!.log.includes("Everything is ready"));
      await sleep(2_000);
      const end = await t.stats();
      const check = await t.check(records);
      const outside = end.duplicateFirstSeen.filter((ms) =>
        !faults.some((f) => ms >= f.start - MARGIN_MS && ms <= f.end + MARGIN_MS)
      );
      console.log(
        `written ${written} records; arrived ${end.unique}; ${end.duplicates} duplicates; ` +
          `agent starts refused while the disk was full: ${failedStarts}`,
      );
      assert.deepEqual(check, { missing: 0, missingExamples: [], unexpected: 0 });
      assert.equal(end.notEnriched, 0, end.enrichmentErrors.join("\n"));
      assert.equal(outside.length, 0, `${outside.length} duplicates away from the fault`);
    } finally {
      await t.stop();
    }
  },
});
