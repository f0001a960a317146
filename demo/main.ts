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
});
let stopping: Promise<void> | undefined;
const stop = () => {
  // A Ctrl-C while starting waits for the start (which cleans up itself if it fails).
  stopping ??= (async () => {
    console.log("\nstopping: generator, agent, gateway, sink …");
    const topology = await startup.catch(() => undefined);
    await topology?.stop();
    console.log("stopped; nothing left behind");
    Deno.exit(0);
  })();
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

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
