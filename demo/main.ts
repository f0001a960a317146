/**
 * `deno task demo`: the whole logs topology on loopback — a log generator writing
 * kubelet-style files, the node agent and the gateway with the manifests' configs, a fake
 * Kubernetes API and a sink printing a live summary every second. Ctrl-C stops everything
 * and removes the temporary directory.
 *
 * Run: deno task demo [--rate 4] [--backend URL [--set key=value …]]
 *   --backend URL: the gateway sends to that OTLP/HTTP base URL instead of the sink; each
 *   `--set` is passed to the gateway after the demo's own (e.g. the bearer token's file:
 *   `--set extensions::bearertokenauth/backend::filename=/path/to/token`).
 *
 * @module
 */

import { Topology } from "./topology.ts";

function arg(name: string): string | undefined {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1]! : undefined;
}

/**
 * How long each collector may drain at Ctrl-C before SIGKILL. Nothing accepted is lost by
 * the kill: the agent's queue is on disk (it survives SIGKILL), and the gateway answers the
 * agent only once the backend accepted, so what it holds is still in the agent's queue.
 */
const GRACE_MS = 5_000;

const sets: string[] = [];
Deno.args.forEach((a, i) => {
  if (a === "--set" && i + 1 < Deno.args.length) sets.push("--set", Deno.args[i + 1]!);
});
const backend = arg("backend");

console.log("starting: generator + fake Kubernetes API, sink, gateway, agent …");
const startup = Topology.start({
  rate: Number(arg("rate") ?? "4"),
  showSink: backend === undefined,
  backend,
  gatewaySets: sets,
  // Ctrl-C reaches only this process, which stops the others in order (see stop below).
  ownSessions: true,
});
let stopping: Promise<void> | undefined;
const stop = () => {
  // A Ctrl-C while starting waits for the start (which cleans up itself if it fails).
  stopping ??= (async () => {
    console.log("\nstopping: generator, agent, gateway, sink …");
    const topology = await startup.catch(() => undefined);
    await topology?.stop({ graceMs: GRACE_MS, report: (line) => console.log(`  ${line}`) });
    console.log("stopped; nothing left behind");
    Deno.exit(0);
  })();
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
// A closed terminal: its children are in their own sessions and would not hear it.
Deno.addSignalListener("SIGHUP", stop);

const topology = await startup.catch((err) => {
  console.error(`the demo could not start: ${err instanceof Error ? err.message : err}`);
  Deno.exit(1);
});
if (stopping === undefined) {
  console.log(
    `running in ${topology.dir}\n` +
      `  agent   pid ${topology.agent!.pid}: ${topology.dir}/agent.log\n` +
      `  gateway pid ${topology.gateway!.pid} on 127.0.0.1:${topology.gatewayPort}: ` +
      `${topology.dir}/gateway.log\n` +
      `  backend ${topology.sinkUrl}${backend === undefined ? " (the demo sink)" : ""}\n` +
      "Ctrl-C stops everything.",
  );
}
