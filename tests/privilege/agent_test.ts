/**
 * The node agent as its DaemonSet runs it — uid 1000, gid 0, no supplementary groups, no
 * capabilities, the agent profile's Deno allow-lists — against a root-owned log tree and a
 * world-writable sticky state parent: it creates its state directory, forwards every line,
 * stops on SIGTERM and resumes without loss or repeats. And what it refuses.
 *
 * Needs root (setpriv changes user only from root; the mount namespace): ignored otherwise.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { CONFIG_DIR, profileFlags } from "../../deploy/profiles.ts";
import { type ChildProcess, hasCommand, isRoot } from "../file_storage/_helpers.ts";
import { startOtlpSink } from "../fakes/otlp_sink.ts";
import type { OtlpSink } from "../fakes/otlp_sink.ts";
import {
  AGENT_ENV,
  agentConfig,
  agentFlags,
  type AgentHost,
  canUnshareMounts,
  GID,
  makeHost,
  spawnAgent,
  UID,
  writePodLog,
} from "./_agent.ts";

/** Pod log directories as kubelet names them: <namespace>_<pod>_<uid>. */
const POD_A = "default_app-1_3f1c2d4e-0000-4000-8000-000000000001";
const POD_B = "default_closed-1_3f1c2d4e-0000-4000-8000-000000000002";

const runnable = isRoot() && hasCommand("setpriv") && canUnshareMounts();

/** The records the sink received, in arrival order, with their resource's service.name. */
function records(sink: OtlpSink): { body: string; service: string; node: string }[] {
  const out: { body: string; service: string; node: string }[] = [];
  for (const req of sink.requests) {
    for (const rl of req.logs?.resourceLogs ?? []) {
      const attr = (k: string) => {
        const v = rl.resource.attributes.find((a) => a.key === k)?.value;
        return v?.kind === "string" ? v.value : "";
      };
      for (const sl of rl.scopeLogs) {
        for (const r of sl.logRecords) {
          const b = r.body;
          const body = b?.kind === "string" ? b.value : "";
          out.push({ body, service: attr("service.name"), node: attr("k8s.node.name") });
        }
      }
    }
  }
  return out;
}

/** The bodies of the pods' log records (not the agent's own logs). */
function bodies(sink: OtlpSink): string[] {
  return records(sink).filter((r) => r.service !== "otelcol-deno-agent").map((r) => r.body);
}

/** Waits until the sink holds `n` records or the agent exited; returns the bodies. */
async function waitForBodies(sink: OtlpSink, n: number, agent: ChildProcess): Promise<string[]> {
  let exited = false;
  agent.process.status.then(() => exited = true);
  const deadline = Date.now() + 60_000;
  while (bodies(sink).length < n && !exited && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return bodies(sink);
}

const lines = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `line-${from + i}`);

async function withHost(fn: (host: AgentHost, sink: OtlpSink) => Promise<void>): Promise<void> {
  const host = makeHost();
  const sink = await startOtlpSink();
  try {
    await fn(host, sink);
  } finally {
    await sink.stop();
    await Deno.remove(host.root, { recursive: true });
  }
}

Deno.test({
  name:
    "privilege: uid 1000/gid 0 without capabilities reads a root-owned log tree, creates its state dir, resumes without loss or repeats",
  ignore: !runnable,
  async fn() {
    await withHost(async (host, sink) => {
      writePodLog(host, POD_A, lines(0, 200));
      const config = agentConfig(host, sink.url);
      const flags = await agentFlags(config, AGENT_ENV);
      // The same lists as the shipped agent profile, less the cluster (no k8sattributes).
      const profile = (await profileFlags("agent")).flags;
      const within = (kind: string) =>
        flags.find((f) => f.startsWith(`--allow-${kind}=`))!.split("=")[1]!.split(",");
      const shipped = (kind: string) =>
        profile.find((f) => f.startsWith(`--allow-${kind}=`))!.split("=")[1]!.split(",");
      assert.deepEqual(within("write"), shipped("write"));
      assert.deepEqual(
        within("read"),
        shipped("read").map((p) => p === CONFIG_DIR ? host.configDir : p)
          .filter((p) => !p.includes("serviceaccount")).sort(),
      );
      for (const f of flags) assert.ok(f.includes("="), `${f} is an allow-list, not a blanket`);

      const first = spawnAgent(host, flags, ["--config", config]);
      const got = await waitForBodies(sink, 200, first);
      first.process.kill("SIGTERM");
      const status = await first.wait();
      assert.equal(status.code, 0, first.stderr);
      assert.deepEqual(got, lines(0, 200));
      assert.match(first.stderr, /Privilege posture.*"uid":1000,"gid":0/);
      // Its own logs reached the sink too, with the telemetry resource, under the same flags.
      const own = records(sink).filter((r) => r.service === "otelcol-deno-agent");
      assert.ok(own.some((r) => r.body.startsWith("Everything is ready")), first.stderr);
      assert.ok(own.every((r) => r.node === "node-1"));
      assert.doesNotMatch(first.stderr, /Running as root|capabilities it does not need/);

      const stateDir = join(host.state, "file-log-receiver");
      const st = Deno.statSync(stateDir);
      assert.equal(st.uid, UID, "the agent created its own state directory");
      assert.equal(st.gid, GID);
      assert.equal((st.mode! & 0o7777).toString(8), "750");

      writePodLog(host, POD_A, lines(200, 300), true);
      const second = spawnAgent(host, flags, ["--config", config]);
      const all = await waitForBodies(sink, 300, second);
      // Give a repeat the chance to show before stopping.
      await new Promise((r) => setTimeout(r, 500));
      second.process.kill("SIGTERM");
      assert.equal((await second.wait()).code, 0, second.stderr);
      assert.deepEqual(bodies(sink), lines(0, 300), "every line once, in order");
      assert.equal(all.length, 300);
    });
  },
});

Deno.test({
  name: "privilege: a log directory its group cannot read is reported with the path",
  ignore: !runnable,
  async fn() {
    await withHost(async (host, sink) => {
      writePodLog(host, POD_A, lines(0, 3));
      writePodLog(host, POD_B, ["hidden"]);
      const closed = join(host.pods, POD_B);
      const closedInside = `/var/log/pods/${POD_B}`;
      Deno.chownSync(closed, 0, 4242); // another group: gid 0 may not enter
      const config = agentConfig(host, sink.url);
      const agent = spawnAgent(host, await agentFlags(config, AGENT_ENV), ["--config", config]);
      const got = await waitForBodies(sink, 3, agent);
      await agent.waitForLine(() => false, 1500).catch(() => {});
      agent.process.kill("SIGTERM");
      await agent.wait();
      assert.deepEqual(got, lines(0, 3), "the readable pod is still read");
      assert.match(agent.stderr, new RegExp(closedInside), agent.stderr);
      assert.match(agent.stderr, /[Pp]ermission denied/);
    });
  },
});

Deno.test({
  name: "privilege: a config naming a path outside the baked allow-list fails at start naming it",
  ignore: !runnable,
  async fn() {
    await withHost(async (host, sink) => {
      const config = agentConfig(host, sink.url);
      const flags = await agentFlags(config, AGENT_ENV);
      Deno.mkdirSync(join(host.varLog, "other"));
      const elsewhere = "/var/log/other";
      agentConfig(host, sink.url, (c) => c.receivers.filelog.include.push(`${elsewhere}/*.log`));
      const agent = spawnAgent(host, flags, ["--config", config]);
      const status = await agent.wait();
      assert.equal(status.code, 1);
      assert.match(
        agent.stderr,
        new RegExp(
          `receivers::filelog::include needs --allow-read=${elsewhere}, which this process does not have`,
        ),
      );
      assert.equal(sink.requests.length, 0);
    });
  },
});

Deno.test({
  name: "privilege: the process cannot read a world-readable file outside its allow-list",
  ignore: !runnable,
  async fn() {
    await withHost(async (host, sink) => {
      const config = agentConfig(host, sink.url);
      const flags = await agentFlags(config, AGENT_ENV);
      // World-readable (0644 in a 0755 dir): Unix permissions let uid 1000 read it.
      const outside = join(host.root, "outside");
      Deno.mkdirSync(outside, { mode: 0o755 });
      Deno.chmodSync(outside, 0o755);
      const other = join(outside, "agent.yaml");
      Deno.copyFileSync(config, other);
      Deno.chmodSync(other, 0o644);
      const agent = spawnAgent(host, flags, ["validate", "--config", other]);
      assert.equal((await agent.wait()).code, 2);
      assert.match(
        agent.stderr,
        new RegExp(`Cannot read config file "${other}": permission denied`),
      );
      // The same run with the directory added to the allow-list reads it: Deno refused, not Unix.
      const allowed = flags.map((f) => f.startsWith("--allow-read=") ? `${f},${outside}` : f);
      const control = spawnAgent(host, allowed, ["validate", "--config", other]);
      assert.equal((await control.wait()).code, 0, control.stderr);
    });
  },
});
