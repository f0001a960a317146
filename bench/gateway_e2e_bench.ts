/**
 * The gateway end to end, as users run it: the collector as a separate process (mod.ts with
 * the `compile` task's permission flags), config otlp receiver (HTTP) → `batch` → `otlp_http`
 * (protobuf, gzip) to a loopback OTLP sink in another process (`agent_sink.ts`), and a load
 * generator in a third process sending 1,000-record gzip protobuf requests over several
 * connections.
 *
 * Phases: `max` sends from `--connections` closed loops (each waits for its answer) for
 * `--seconds` after a warm-up; the collector's records per CPU-second (user + system, all
 * threads, from /proc/PID/stat) and its rate, both counted until the sink has every record
 * (the export queue accepts faster than it delivers, so the rate of answers alone would
 * overstate what the collector sustains). `80%` then sends open-loop at 80 % of that rate for
 * `--seconds`: requests leave on a fixed schedule, whatever the answers, and each latency
 * counts from its scheduled time (no coordinated omission); p50, p99, max. Each phase also
 * shows the p99 delay of a 10 ms timer inside the collector (`OTELCOL_DENO_LOOP_DELAY_FILE`).
 *
 * Baselines in the same run, same request bytes: a bare `Deno.serve` handler that only reads
 * and gunzips the body (otlp_receiver_bench.ts's `serve-bare`) under the same closed-loop
 * load, and GNU `gzip -6` / `gunzip` of the uncompressed requests (the collector must at least
 * gunzip every request and gzip every batch at otlp_http's default level 6).
 *
 * The default 32 connections keep more records in flight than one batch holds (8,192): `batch`
 * answers a request only once the batch holding its records was accepted downstream, so with
 * fewer closed-loop connections than a batch needs, every batch waits for its 200 ms timeout
 * and the "maximum" would measure that timeout, not the collector.
 *
 * `--batch-timeout` sets the `batch` processor's `timeout` (default upstream's 200 ms); a
 * request waits for its batch, so below 8,192 records per timeout this bounds its latency.
 *
 * Nothing in this pipeline changes data, so the receiver hands each request's bytes on and
 * `batch` and `otlp_http` pass them through undecoded. `--attributes` puts an `attributes`
 * processor (insert one attribute) before `batch`: then every request is decoded and every
 * batch encoded, as in any gateway with a processor that changes records (the shipped one has
 * k8sattributes).
 *
 * `--collector-v8-flags` passes V8 flags to the collector (e.g. `--minor-ms`, V8's non-copying
 * young-generation collector, against the scavenges of records that batching keeps alive).
 *
 * Run: deno run -A bench/gateway_e2e_bench.ts [--connections 32] [--seconds 10]
 *   [--batch-timeout 200ms] [--collector-v8-flags --minor-ms] [--attributes]
 *
 * @module
 */

import zlib from "node:zlib";
import { encodeLogsRequest } from "../core/pdata/otlp_proto.ts";
import { loopDelayQuantile, type LoopDelaySnapshot } from "../core/telemetry/loop_delay.ts";
import { sampleLogs } from "../core/pdata/testing.ts";
import { CollectorProcess } from "../tests/fakes/collector_process.ts";
import { repoPath } from "../tests/fakes/run.ts";
import { cpuSeconds, freePort, memMiB, Sink, sleep, tool } from "./processes.ts";

const RECORDS_PER_REQUEST = 1000;
const WARMUP_S = 3;
const HEADERS = { "content-type": "application/x-protobuf", "content-encoding": "gzip" };
const self = new URL(import.meta.url).pathname;

function arg(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1]! : def;
}

/** The request every client sends: 1,000 realistic container records, gzip protobuf. */
function requestBody(): { raw: Uint8Array; gz: Uint8Array<ArrayBuffer> } {
  const raw = encodeLogsRequest(sampleLogs(RECORDS_PER_REQUEST));
  return { raw, gz: new Uint8Array(zlib.gzipSync(raw)) };
}

// ---------------------------------------------------------------- load generator process

/** What a load generator run prints (one JSON line). */
interface LoadResult {
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  seconds: number;
  /** Latency quantiles in ms: p50, p99, max. */
  p50: number;
  p99: number;
  max: number;
}

async function post(url: string, body: Uint8Array<ArrayBuffer>): Promise<number> {
  try {
    const res = await fetch(url, { method: "POST", headers: HEADERS, body });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // connection error
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

/**
 * Closed loop (`rate` 0): `connections` loops each send, wait, send again. Open loop: requests
 * leave every 1/rate s whatever the answers (at most 1,000 in flight); latency from schedule.
 */
async function generate(url: string, connections: number, seconds: number, rate: number) {
  const { gz } = requestBody();
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0, failed = 0;
  const count = (status: number, ms: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 200) ok++;
    else failed++;
    latencies.push(ms);
  };
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  if (rate === 0) {
    await Promise.all(Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const start = performance.now();
        count(await post(url, gz), performance.now() - start);
      }
    }));
  } else {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0;; i++) {
      const due = t0 + (i * 1000) / rate;
      if (due >= end) break;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      while (inFlight.size >= 1000) await Promise.race(inFlight);
      const p: Promise<void> = post(url, gz).then((s) => {
        count(s, performance.now() - due);
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  }
  latencies.sort((a, b) => a - b);
  const result: LoadResult = {
    ok,
    failed,
    statuses,
    seconds: (performance.now() - t0) / 1000,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
  };
  console.log(JSON.stringify(result));
}

/** Runs the load generator in its own process and returns what it measured. */
async function load(url: string, connections: number, seconds: number, rate = 0) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      self,
      "generate",
      url,
      ...[connections, seconds, rate].map(String),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("load generator failed");
  return JSON.parse(new TextDecoder().decode(out.stdout)) as LoadResult;
}

// ---------------------------------------------------------------- servers

/** Options of {@linkcode gatewayConfig}. */
export interface GatewayConfigOptions {
  /** The `batch` processor's `timeout`; upstream's default when empty. */
  batchTimeout?: string;
  /** Put `k8sattributes` (kubeConfig auth, waiting for its cache) before `batch`. */
  k8sattributes?: boolean;
  /** Put an `attributes` processor that inserts one attribute before `batch`. */
  attributes?: boolean;
}

/** The gateway's pipeline: otlp (HTTP) → [k8sattributes →] batch → otlp_http (gzip). */
export function gatewayConfig(
  port: number,
  sinkPort: number,
  o: GatewayConfigOptions = {},
): string {
  const k8s = o.k8sattributes
    ? "  k8sattributes:\n    auth_type: kubeConfig\n    wait_for_metadata: true\n" +
      "    wait_for_metadata_timeout: 120s\n"
    : "";
  const attributes = o.attributes
    ? "  attributes:\n    actions: [{ key: gateway, value: g-1, action: insert }]\n"
    : "";
  const processors = [
    ...(o.k8sattributes ? ["k8sattributes"] : []),
    ...(o.attributes ? ["attributes"] : []),
    "batch",
  ];
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}
processors:
  batch: {${o.batchTimeout ? ` timeout: ${o.batchTimeout}` : ""}}
${k8s}${attributes}exporters:
  otlp_http:
    endpoint: http://127.0.0.1:${sinkPort}
    compression: gzip
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: info
  pipelines:
    logs:
      receivers: [otlp]
      processors: [${processors.join(", ")}]
      exporters: [otlp_http]
`;
}

/** The bare read + gunzip handler of the receiver bench, in its own process. */
async function startBare(): Promise<{ child: Deno.ChildProcess; url: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", repoPath("bench/otlp_receiver_bench.ts"), "serve-bare"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("bare server exited");
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return { child, url: text.split("\n")[0]! };
}

// ---------------------------------------------------------------- phases

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function bare(connections: number, seconds: number): Promise<number> {
  const { child, url } = await startBare();
  try {
    await load(url, connections, WARMUP_S);
    const cpu0 = cpuSeconds(child.pid);
    const r = await load(url, connections, seconds);
    const perCpu = (r.ok * RECORDS_PER_REQUEST) / (cpuSeconds(child.pid) - cpu0);
    console.log(
      `| bare Deno.serve, read + gunzip (closed loop) | ${fmt(perCpu)} | ${
        fmt(r.ok * RECORDS_PER_REQUEST / r.seconds)
      } | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.max, 1)} | ${r.failed} | |`,
    );
    return perCpu;
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

/** The collector's records per CPU-second at the maximum rate and p99 (ms) at 80 % of it. */
async function gateway(
  connections: number,
  seconds: number,
): Promise<{ perCpu: number; p99: number }> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-e2e-" });
  const sink = await Sink.start();
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    gatewayConfig(port, sink.port, {
      batchTimeout: arg("batch-timeout", ""),
      attributes: Deno.args.includes("--attributes"),
    }),
  );
  const v8 = arg("collector-v8-flags", "");
  const probe = `${dir}/loop.json`;
  const c = await CollectorProcess.spawn({
    args: ["--config", `${dir}/config.yaml`],
    runFlags: v8 ? [`--v8-flags=${v8}`] : [],
    env: { OTELCOL_DENO_LOOP_DELAY_FILE: probe },
  });
  /** The collector's event-loop delay histogram so far (undefined until the probe wrote). */
  const loop = async (): Promise<LoopDelaySnapshot | undefined> => {
    try {
      return JSON.parse(await Deno.readTextFile(probe));
    } catch {
      return undefined;
    }
  };
  const url = `http://127.0.0.1:${port}/v1/logs`;
  let sent = 0;
  /** Runs one load phase; CPU counts until the sink holds every record accepted. */
  const phase = async (what: string, rate: number) => {
    const cpu0 = cpuSeconds(c.pid);
    const t0 = performance.now();
    const loop0 = await loop();
    const r = await load(url, connections, seconds, rate);
    const loop1 = await loop();
    sent += r.ok * RECORDS_PER_REQUEST;
    await sink.until((s) => s.records >= sent, 300_000, `${what}: every accepted record`);
    // Until the sink has them all: the export queue can accept faster than it delivers.
    const wallS = (performance.now() - t0) / 1000;
    const perCpu = (r.ok * RECORDS_PER_REQUEST) / (cpuSeconds(c.pid) - cpu0);
    const codes = Object.entries(r.statuses).filter(([s]) => s !== "200").map(([s, n]) =>
      `${n}× ${s === "0" ? "connection error" : s}`
    );
    const loopP99 = loop1 ? fmt(loopDelayQuantile(loop0, loop1, 0.99)) : "";
    console.log(
      `| ${what} | ${fmt(perCpu)} | ${fmt(r.ok * RECORDS_PER_REQUEST / wallS)} | ${
        fmt(r.p50, 1)
      } | ${fmt(r.p99, 1)} | ${fmt(r.max, 1)} | ${r.failed}${
        codes.length ? ` (${codes.join(", ")})` : ""
      } | ${loopP99} |`,
    );
    return { r, perCpu, wallS };
  };
  try {
    const warm = await load(url, connections, WARMUP_S);
    sent += warm.ok * RECORDS_PER_REQUEST;
    await sink.until((s) => s.records >= sent, 60_000, "the warm-up records");
    const max = await phase("collector, max rate (closed loop)", 0);
    const rate = (0.8 * max.r.ok) / max.wallS;
    const at80 = await phase(`collector, 80 % of max = ${fmt(rate, 1)} req/s (open loop)`, rate);
    console.log(`collector peak RSS ${fmt(memMiB(c.pid, "VmHWM"))} MiB`);
    return { perCpu: max.perCpu, p99: at80.r.p99 };
  } finally {
    await c.stop();
    await sink.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** `gzip -6` and `gunzip` of the uncompressed requests, in records per CPU-second. */
async function compressionBaselines(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-e2e-" });
  try {
    const { raw } = requestBody();
    const copies = 40;
    const file = await Deno.open(`${dir}/requests.pb`, { write: true, create: true });
    for (let i = 0; i < copies; i++) await file.write(raw);
    file.close();
    const records = copies * RECORDS_PER_REQUEST;
    const gz = await tool("gzip -6", "gzip -6 -c", [`${dir}/requests.pb`]);
    await new Deno.Command("bash", { args: ["-c", `gzip -6 -k '${dir}/requests.pb'`] }).output();
    const gunzip = await tool("gunzip", "gunzip -c", [`${dir}/requests.pb.gz`]);
    for (const r of [gz, gunzip]) {
      console.log(`| ${r.what} of the same requests | ${fmt(records / r.cpuS)} | | | | | | |`);
    }
    const both = records / (gz.cpuS + gunzip.cpuS);
    console.log(
      `| gunzip + gzip -6 together (GNU gzip) | ${fmt(both)} | | | | | | |`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function main(): Promise<void> {
  const connections = Number(arg("connections", "32"));
  const seconds = Number(arg("seconds", "10"));
  const { raw, gz } = requestBody();
  console.log(
    `${RECORDS_PER_REQUEST}-record requests (${fmt(raw.length / 1024)} KiB protobuf, ${
      fmt(gz.length / 1024)
    } KiB gzip), ${connections} connections, ${seconds} s per phase after a ${WARMUP_S} s ` +
      `warm-up; otlp (HTTP) → ${
        Deno.args.includes("--attributes") ? "attributes (insert) → " : ""
      }batch (timeout ${
        arg("batch-timeout", "200ms")
      }) → otlp_http (gzip) → sink, each its own process${
        arg("collector-v8-flags", "") ? `; collector V8 flags ${arg("collector-v8-flags", "")}` : ""
      }`,
  );
  console.log(
    "| what | records per CPU-s | records/s wall | p50 ms | p99 ms | max ms | failed | collector loop p99 ms |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  await bare(connections, seconds);
  await compressionBaselines();
  const { perCpu, p99 } = await gateway(connections, seconds);
  const verdict = (met: boolean) => (met ? "met" : "NOT met");
  console.log(
    `${
      Deno.args.includes("--attributes")
        ? "for comparison (issue 10's targets are for the pass-through pipeline)"
        : "targets (issue 10)"
    }: ≥ 150,000 records per CPU-s: ${fmt(perCpu)}, ${
      verdict(perCpu >= 150_000)
    }; p99 < 100 ms at 80 % of the max rate: ${fmt(p99, 1)} ms, ${verdict(p99 < 100)}`,
  );
}

if (import.meta.main) {
  if (Deno.args[0] === "generate") {
    const [url, connections, seconds, rate] = Deno.args.slice(1);
    await generate(url!, Number(connections), Number(seconds), Number(rate));
  } else {
    await main();
  }
}
