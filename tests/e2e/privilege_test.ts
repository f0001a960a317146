/**
 * The topology with the agent as its DaemonSet runs the agent binary (`_profile_agent.ts`):
 * uid 1000, gid 0, no supplementary groups, no capabilities, **the agent profile's own
 * allow-lists** (the flags `deno task compile:agent` bakes, unchanged) and the shipped
 * agent.yaml without overrides, in a private mount and network namespace where the
 * profile's paths and host names lead to the test's tree and processes — and its storage
 * directory on a 16 MiB tmpfs that is nearly full (48 KiB free) for 8 s of the run, with the
 * agent SIGKILLed once while it is (its restart fails while the disk is full and is retried,
 * as kubelet does). After recovery every line has arrived, enriched; duplicates are
 * reported and bounded as in `faults_test.ts`. Rotation pauses while the disk is full: a
 * stalled agent that also dies loses what kubelet rotated twice meanwhile (gzipped, no
 * longer matched), as a dead one.
 *
 * Needs root (setpriv, mount, unshare): ignored otherwise.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Topology } from "../../demo/topology.ts";
import { GID, UID } from "../privilege/_agent.ts";
import { drainAll, sleep } from "./_helpers.ts";
import { canRunProfileAgent, PROFILE_AGENT_ARGS, profileAgent } from "./_profile_agent.ts";

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

/** `otelcol_otelsvc_k8s_pod_added` in a Prometheus page, 0 when absent. */
function podsAdded(metrics: string): number {
  const m = /^otelcol_otelsvc_k8s_pod_added(?:_total)?(?:\{[^}]*\})? (\d+)/m.exec(metrics);
  return m ? Number(m[1]) : 0;
}

Deno.test({
  name:
    "e2e: the agent as uid 1000/gid 0 without capabilities under its allow-lists, storage on a nearly full tmpfs",
  ignore: !canRunProfileAgent(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const state = (t: Topology) => `${t.dir}/var/lib/telemetry-log-agent`;
    const profile = await profileAgent({
      prepare: (t) => {
        const r = run("mount", "-t", "tmpfs", "-o", "size=16m,mode=1777", "tmpfs", state(t));
        assert.ok(r.ok, r.err);
        return Promise.resolve();
      },
      cleanup: (t) => {
        run("umount", state(t));
        return Promise.resolve();
      },
    });
    const t = await Topology.start({
      rate: 30,
      burstChance: 0.1,
      rotateBytes: 48 * 1024,
      ...profile.options,
    });
    const faults: { what: string; start: number; end: number }[] = [];
    try {
      // Exactly the profile's allow-lists and the DaemonSet's arguments: no --set.
      const cmdline = Deno.readTextFileSync(`/proc/${t.agent!.pid}/cmdline`).split("\0");
      assert.deepEqual(cmdline.filter((a) => a.startsWith("--allow-")), profile.flags);
      assert.deepEqual(cmdline.slice(-1 - PROFILE_AGENT_ARGS.length, -1), PROFILE_AGENT_ARGS);
      // No capabilities in any set (the posture line cannot tell: Deno keeps /proc from it).
      const status = Deno.readTextFileSync(`/proc/${t.agent!.pid}/status`);
      for (const set of ["CapInh", "CapPrm", "CapEff", "CapAmb"]) {
        assert.match(status, new RegExp(`^${set}:\\s+0+$`, "m"), status);
      }
      assert.match(status, new RegExp(`^Uid:\\s+${UID}\\s+${UID}\\s+${UID}\\s+${UID}$`, "m"));
      assert.match(status, new RegExp(`^Gid:\\s+${GID}\\s+${GID}\\s+${GID}\\s+${GID}$`, "m"));
      assert.match(status, /^Groups:\s*$/m, "no supplementary groups");
      const posture = /Privilege posture\s+(\{.*\})/.exec(t.agent!.log)?.[1];
      assert.ok(posture, t.agent!.log);
      assert.equal(JSON.parse(posture).uid, UID);
      assert.equal(JSON.parse(posture).gid, GID);
      assert.match(JSON.parse(posture).deno, /read=restricted write=restricted net=restricted/);
      const created = await Deno.stat(`${state(t)}/file-log-receiver`);
      assert.equal(created.uid, UID);
      // The shipped ports, in the namespace: health, and metrics showing that the agent's
      // k8sattributes listed this node's pods in-cluster (token, CA, kubernetes.default.svc).
      // Health turns 200 before the first pod list is done (no wait_for_metadata, as
      // upstream), so the metric is polled: on a slow machine the list lands later.
      assert.equal((await profile.get("http://127.0.0.1:13133/")).status, 200);
      let metrics = "";
      for (const end = Date.now() + 20_000; Date.now() < end; await sleep(500)) {
        metrics = (await profile.get("http://127.0.0.1:8888/metrics")).body;
        if (podsAdded(metrics) > 0) break;
      }
      assert.ok(podsAdded(metrics) > 0, `${metrics}\nagent log:\n${t.agent!.log.slice(-3000)}`);
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
