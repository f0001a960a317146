/**
 * Helpers for the end-to-end tests: how the agent runs, waiting on the sink, the final
 * exactly-once check.
 *
 * @module
 */

import type { SinkStats } from "../../demo/sink.ts";
import { Topology, type TopologyOptions } from "../../demo/topology.ts";
import { canRunProfileAgent, profileAgent } from "./_profile_agent.ts";

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the sink until `pred` holds; throws with the last stats after `timeoutMs`. */
export async function until(
  t: Topology,
  pred: (s: SinkStats) => boolean,
  timeoutMs: number,
  what: string,
): Promise<SinkStats> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await t.stats();
    if (pred(s)) return s;
    if (Date.now() > end) {
      throw new Error(
        `timed out waiting for ${what}: ${
          JSON.stringify({ ...s, duplicateFirstSeen: undefined })
        }\n` +
          `agent log:\n${t.agent?.log.slice(-3000)}\ngateway log:\n${t.gateway?.log.slice(-3000)}`,
      );
    }
    await sleep(200);
  }
}

/** Stops the generator and waits (at most `timeoutMs`) until every written line arrived. */
export async function drainAll(
  t: Topology,
  timeoutMs: number,
): Promise<{ written: number; records: number[]; lines: number; stats: SinkStats }> {
  await t.command("stop");
  const status = await t.written();
  const written = status.records.reduce((a, b) => a + b, 0);
  // On a timeout the caller's check names what is missing.
  const stats = await until(t, (s) => s.unique >= written, timeoutMs, `${written} lines`)
    .catch(async (err) => {
      console.error(String(err).slice(0, 8000));
      return await t.stats();
    });
  return { written, records: status.records, lines: status.lines, stats };
}

/**
 * How the topology's agent runs: as its DaemonSet runs the agent binary (uid 1000, the
 * agent profile's flags, see `_profile_agent.ts`) where the machine allows it (root), else
 * as this user with the `compile` task's flags; `what` says which, for the test's output.
 */
export async function agentHooks(): Promise<{ options: TopologyOptions; what: string }> {
  if (!canRunProfileAgent()) {
    return { options: {}, what: "agent as this user with the compile task's flags (not root)" };
  }
  return {
    options: (await profileAgent()).options,
    what: "agent as uid 1000/gid 0 with the agent profile's flags",
  };
}

/**
 * Starts the topology both e2e tests run: 30 lines/s per pod with bursts, kubelet rotation at
 * 48 KiB (several rotations a minute), and the agent from {@linkcode agentHooks}; `agent`
 * says which agent, for the test's output.
 */
export async function startE2eTopology(): Promise<{ t: Topology; agent: string }> {
  const agent = await agentHooks();
  const t = await Topology.start({
    rate: 30,
    burstChance: 0.1,
    rotateBytes: 48 * 1024,
    ...agent.options,
  });
  return { t, agent: agent.what };
}
