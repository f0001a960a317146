// The otlp receiver alone: 1,000-record gzip protobuf requests from several concurrent client
// connections (clients in another process) into a consumer that drops them, in records per
// CPU-second of the receiver's process, next to a bare `Deno.serve` handler that only reads and
// gunzips the body, measured in the same run (rounds interleaved, medians reported). The null
// consumer says it changes data, so every request is decoded (any pipeline with a processor);
// a second line has one that changes nothing, so the receiver hands the bytes on after checking
// them (a pass-through pipeline: otlp → batch → otlp_http).
//
// Run: deno run --allow-all bench/otlp_receiver_bench.ts [connections=8] [seconds=3] [rounds=3]
//
// CPU time is the receiver process's user+system time from /proc/<pid>/stat (Linux).
//
// Then the event loop: 40,000-record (~8.5 MiB) gzip requests into the receiver in this
// process, with a 1 ms timer measuring how late it fires (p99 and max), next to a bare handler
// that decodes the same bodies in one call.

import zlib from "node:zlib";
import { decodeLogsRequest, encodeLogsRequest } from "../core/pdata/otlp_proto.ts";
import { sampleLogs } from "../core/pdata/testing.ts";
import type { OtlpReceiver } from "../receivers/otlp/receiver.ts";
import { cpuSeconds, firstLine, median, startNullReceiver } from "./_receiver_load.ts";

const RECORDS_PER_REQUEST = 1000;
const self = new URL(import.meta.url).pathname;

/** Starts the real receiver (null consumer) on a free port; returns it and its URL. */
async function startBenchReceiver(
  changesNothing = false,
): Promise<{ receiver: OtlpReceiver; url: string }> {
  const receiver = await startNullReceiver({ http: { endpoint: "127.0.0.1:0" } }, changesNothing);
  return { receiver, url: `http://${receiver.httpAddress}/v1/logs` };
}

/** Serves the real receiver and prints its URL. */
async function serveReceiver(changesNothing: boolean): Promise<void> {
  console.log((await startBenchReceiver(changesNothing)).url);
}

/** Serves the baseline: read the body, gunzip it, answer 200. */
function serveBare(): void {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    zlib.gunzipSync(new Uint8Array(await req.arrayBuffer()));
    return new Response(null);
  });
  console.log(`http://127.0.0.1:${server.addr.port}/v1/logs`);
}

/** Sends the same request from `connections` loops for `seconds`; prints how many were OK. */
async function client(url: string, connections: number, seconds: number): Promise<void> {
  const body = new Uint8Array(zlib.gzipSync(encodeLogsRequest(sampleLogs(RECORDS_PER_REQUEST))));
  const headers = { "content-type": "application/x-protobuf", "content-encoding": "gzip" };
  const end = performance.now() + seconds * 1000;
  let ok = 0;
  let failed = 0;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < end) {
      const res = await fetch(url, { method: "POST", headers, body });
      await res.arrayBuffer();
      if (res.status === 200) ok++;
      else failed++;
    }
  }));
  console.log(JSON.stringify({ ok, failed, bytes: body.length }));
}

/** One round against one server: records per CPU-second of the server process. */
async function round(mode: string, connections: number, seconds: number): Promise<number> {
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", self, mode],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const url = await firstLine(server.stdout);
    // Warm up (JIT, connections), then measure.
    await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", self, "client", url, String(connections), "1"],
      stdout: "null",
    }).output();
    const before = cpuSeconds(server.pid);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", self, "client", url, String(connections), String(seconds)],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const cpu = cpuSeconds(server.pid) - before;
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    if (result.failed > 0) throw new Error(`${mode}: ${result.failed} requests failed`);
    return (result.ok * RECORDS_PER_REQUEST) / cpu;
  } finally {
    server.kill("SIGKILL");
    await server.status;
    await server.stdout.cancel().catch(() => {});
  }
}

/** Timer lateness (ms) while `requests` big requests go to `url`: [p99, max]. */
async function loopDelay(url: string, body: Uint8Array<ArrayBuffer>, requests: number) {
  const delays: number[] = [];
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    delays.push(now - last - 1);
    last = now;
  }, 1);
  const headers = { "content-type": "application/x-protobuf", "content-encoding": "gzip" };
  for (let i = 0; i < requests; i++) {
    const res = await fetch(url, { method: "POST", headers, body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`big request answered ${res.status}`);
  }
  clearInterval(probe);
  delays.sort((a, b) => a - b);
  return [delays[Math.floor(delays.length * 0.99)]!, delays[delays.length - 1]!];
}

async function loopDelayComparison(): Promise<void> {
  const records = 40_000;
  const raw = encodeLogsRequest(sampleLogs(records));
  const body = new Uint8Array(zlib.gzipSync(raw));
  const bare = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    decodeLogsRequest(zlib.gunzipSync(new Uint8Array(await req.arrayBuffer())));
    return new Response(null);
  });
  const { receiver, url } = await startBenchReceiver();
  const fmt = ([p99, max]: number[]) => `p99 ${p99!.toFixed(1)} ms, max ${max!.toFixed(1)} ms`;
  await loopDelay(url, body, 2); // warm up
  const ours = await loopDelay(url, body, 10);
  const whole = await loopDelay(`http://127.0.0.1:${bare.addr.port}/v1/logs`, body, 10);
  console.log(
    `event loop lateness during ${records}-record requests (${
      (raw.length / 2 ** 20).toFixed(1)
    } MiB):`,
  );
  console.log(`otlp receiver (sliced decode)     ${fmt(ours)}`);
  console.log(`bare handler, one decode call     ${fmt(whole)}`);
  await receiver.shutdown();
  await bare.shutdown();
}

async function main(): Promise<void> {
  const [connections = 8, seconds = 3, rounds = 3] = Deno.args.map(Number);
  const bare: number[] = [];
  const receiver: number[] = [];
  const passThrough: number[] = [];
  for (let i = 0; i < rounds; i++) {
    bare.push(await round("serve-bare", connections, seconds));
    receiver.push(await round("serve-receiver", connections, seconds));
    passThrough.push(await round("serve-receiver-pass", connections, seconds));
  }
  const fmt = (x: number) => `${(x / 1000).toFixed(0).padStart(6)}k records/CPU-s`;
  console.log(
    `${RECORDS_PER_REQUEST}-record gzip protobuf requests, ${connections} connections, ` +
      `${rounds} rounds of ${seconds}s (median; each round: ${
        bare.map((b, i) => `${(b / 1000).toFixed(0)}k/${(receiver[i]! / 1000).toFixed(0)}k`)
          .join(", ")
      })`,
  );
  console.log(`bare Deno.serve (read + gunzip)   ${fmt(median(bare))}`);
  const ratio = (x: number[]) => `${(median(x) / median(bare)).toFixed(2)}×`;
  console.log(`otlp receiver (null consumer)     ${fmt(median(receiver))} ${ratio(receiver)}`);
  console.log(
    `  same, pipeline changes nothing  ${fmt(median(passThrough))} ${ratio(passThrough)}`,
  );
  await loopDelayComparison();
}

if (import.meta.main) {
  const [mode, ...rest] = Deno.args;
  if (mode === "serve-receiver") await serveReceiver(false);
  else if (mode === "serve-receiver-pass") await serveReceiver(true);
  else if (mode === "serve-bare") serveBare();
  else if (mode === "client") await client(rest[0]!, Number(rest[1]), Number(rest[2]));
  else await main();
}
