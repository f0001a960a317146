// k8sattributes: memory of the pod cache, time and peak RSS to fill it from a fake API
// server in another process, and the CPU the processor adds per record, each next to a
// baseline measured in the same run.
//
// Run: deno run --allow-all bench/k8sattributes_bench.ts [pods…]   (default: 10000 100000)
//
// Every measurement runs in its own process (started with --expose-gc so heap figures are
// taken after a full collection):
// - serve: a fake API server (tests/fakes/kube_api.ts) generating realistic pods on the fly:
//   ~10 labels, 4 annotations including a 3 KB kubectl last-applied-configuration,
//   managedFields, two containers with statuses. As API servers do at resourceVersion=0
//   (served from the watch cache), it answers the whole list in one response, so the
//   client must stream it.
// - cache: starts the processor (default config) against it and reports the time until the
//   cache is complete, peak RSS and event-loop lag while listing, and the heap the cache
//   keeps per pod. With 100,000 pods it then measures records per CPU-second of
//   "decode OTLP → processor → encode OTLP" against "decode → encode" (the same pipeline
//   without the processor), with resources associated by k8s.pod.ip against that cache.
// - parsed: the same pods as parsed JSON objects (what a cache of whole objects holds).

import process from "node:process";
import zlib from "node:zlib";
import { ComponentId, type CreateSettings } from "../core/component.ts";
import { ConfigReader } from "../core/config/reader.ts";
import type { ConsumeContext } from "../core/consumer.ts";
import { type Logs, newLogRecord, newResource, newScope, stringValue } from "../core/pdata/logs.ts";
import { decodeLogsRequest, encodeLogsRequest } from "../core/pdata/otlp_proto.ts";
import { nopLogger } from "../core/telemetry/logger.ts";
import { MetricsRegistry } from "../core/telemetry/metrics.ts";
import { parseK8sAttributesConfig } from "../processors/k8sattributes/config.ts";
import { K8sAttributesProcessor } from "../processors/k8sattributes/processor.ts";
import { FakeKubeApi, type KObject, podFixture } from "../tests/fakes/kube_api.ts";
import { CollectorProcess } from "../tests/fakes/collector_process.ts";
import { cpuSeconds, freePort, Sink } from "./processes.ts";
import { gatewayConfig } from "./gateway_e2e_bench.ts";

const self = new URL(import.meta.url).pathname;
const [mode, ...rest] = Deno.args;

/** Pod number `i` of a cluster: 10 replicas per Deployment, 40 namespaces, 500 nodes. */
function realisticPod(i: number): KObject {
  const deploy = `svc-${Math.floor(i / 10)}`;
  const hash = (0x5f3759df ^ Math.floor(i / 10)).toString(36).slice(0, 9).padEnd(9, "x");
  const ns = `team-${i % 40}`;
  return podFixture({
    name: `${deploy}-${hash}-${(i * 7919).toString(36).slice(-5).padStart(5, "a")}`,
    namespace: ns,
    uid: `7c9e6679-7425-40de-${(i >> 16).toString(16).padStart(4, "0")}-${
      i.toString(16).padStart(12, "0")
    }`,
    node: `ip-10-0-${i % 500 >> 8}-${i % 256}.eu-west-1.compute.internal`,
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    ownerKind: "ReplicaSet",
    ownerName: `${deploy}-${hash}`,
    creationTimestamp: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString().replace(
      ".000Z",
      "Z",
    ),
    labels: {
      app: deploy,
      "app.kubernetes.io/name": deploy,
      "app.kubernetes.io/instance": `${deploy}-prod`,
      "app.kubernetes.io/version": "1.4.2",
      "app.kubernetes.io/part-of": "shop",
      "app.kubernetes.io/managed-by": "Helm",
      "pod-template-hash": hash,
      team: ns,
      environment: "production",
      "security.istio.io/tlsMode": "istio",
    },
    annotations: {
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "9090",
      "checksum/config": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    },
    lastAppliedBytes: 3000,
    containers: [
      ["app", `registry.example.com/${ns}/${deploy}:1.4.2`],
      ["istio-proxy", "docker.io/istio/proxyv2:1.24.1"],
    ],
  });
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc!();
}

function heapUsed(): number {
  gc();
  gc();
  return Deno.memoryUsage().heapUsed;
}

const MiB = 1024 * 1024;
/** Records per resource in the CPU runs: filelog groups a batch's records by file (pod). */
const SHAPES = [1, 10, 50];

// ---- child: the fake API server ----
async function serve(count: number): Promise<void> {
  const api = FakeKubeApi.start({ ignoreLimitAtRv0: true });
  api.virtual("pods", count, realisticPod);
  console.log(api.url);
  // Runs until the parent kills it.
  await new Promise(() => {});
}

// ---- child: the same pods as parsed JSON objects ----
function parsed(count: number): void {
  const before = heapUsed();
  const kept: unknown[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const text = JSON.stringify(realisticPod(i));
    bytes += text.length;
    kept.push(JSON.parse(text));
  }
  const after = heapUsed();
  console.log(
    JSON.stringify({ perPod: (after - before) / count, jsonBytes: bytes / count, n: kept.length }),
  );
}

// ---- child: the processor's cache, then CPU per record ----
function settings(): CreateSettings {
  return {
    id: new ComponentId("k8sattributes"),
    kind: "processor",
    logger: nopLogger(),
    metrics: new MetricsRegistry(),
    componentLabels: {},
    buildInfo: { command: "otelcol-deno", description: "bench", version: "0" },
  };
}

const noop = {
  mutatesData: false,
  consume: (_logs: Logs, _ctx: ConsumeContext) => Promise.resolve(),
};

/** Runs `fn` while a 10 ms timer measures how late it fires and RSS is sampled. */
async function sampled(fn: () => Promise<void>) {
  let peakRss = Deno.memoryUsage().rss;
  const lags: number[] = [];
  let last = performance.now();
  const sampler = setInterval(() => {
    const now = performance.now();
    lags.push(now - last - 10);
    last = now;
    peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  }, 10);
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  clearInterval(sampler);
  lags.sort((a, b) => a - b);
  return {
    ms,
    peakRssMiB: peakRss / MiB,
    lagP99Ms: lags[Math.floor(lags.length * 0.99)] ?? 0,
    lagMaxMs: lags.at(-1) ?? 0,
  };
}

async function cache(url: string, count: number): Promise<void> {
  const cfg = parseK8sAttributesConfig(ConfigReader.empty("processors::k8sattributes"));
  const proc = new K8sAttributesProcessor(settings(), cfg, noop, {
    clientConfig: { server: url, insecureSkipTlsVerify: false, describe: "bench" },
  });
  const heapBefore = heapUsed();
  const rssBefore = Deno.memoryUsage().rss;
  const sync = await sampled(async () => {
    await proc.start({ getExtension: () => undefined, reportFatalError: () => {} });
    while (!proc.ready) await new Promise((r) => setTimeout(r, 5));
  });
  const heapAfter = heapUsed();
  // Baseline: the same list read and thrown away, under the same sampler.
  const drain = await sampled(async () => {
    const resp = await fetch(`${url}/api/v1/pods?limit=500&resourceVersion=0`);
    for await (const _ of resp.body!) { /* discard */ }
  });
  const result: Record<string, number> = {
    syncMs: sync.ms,
    peakRssMiB: sync.peakRssMiB,
    rssBeforeMiB: rssBefore / MiB,
    perPod: (heapAfter - heapBefore) / count,
    lagP99Ms: sync.lagP99Ms,
    lagMaxMs: sync.lagMaxMs,
    drainMs: drain.ms,
    drainLagP99Ms: drain.lagP99Ms,
  };
  if (rest.includes("--cpu")) Object.assign(result, await cpu(proc, count));
  console.log(JSON.stringify(result));
  await proc.shutdown();
}

/** A request of `resources` resources with `perResource` ~200 B records each. */
function request(
  resources: number,
  perResource: number,
  count: number,
  seed: number,
  preEnriched = false,
): Uint8Array {
  const logs: Logs = { resourceLogs: [] };
  for (let r = 0; r < resources; r++) {
    const i = (seed * 7919 + r * 104729) % count;
    const pod = preEnriched ? realisticPod(i) : undefined;
    const enriched = pod === undefined ? [] : Object.entries({
      "k8s.namespace.name": pod.metadata.namespace,
      "k8s.pod.name": pod.metadata.name,
      "k8s.pod.uid": pod.metadata.uid,
      "k8s.pod.start_time": pod.metadata.creationTimestamp,
      "k8s.deployment.name": pod.metadata.ownerReferences[0].name.replace(/-[^-]+$/, ""),
      "k8s.node.name": pod.spec.nodeName,
    }).map(([key, v]) => ({ key, value: stringValue(v as string) }));
    logs.resourceLogs.push({
      resource: newResource([
        {
          key: "k8s.pod.ip",
          value: stringValue(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
        },
        { key: "service.name", value: stringValue(`svc-${Math.floor(i / 10)}`) },
        ...enriched,
      ]),
      schemaUrl: "",
      scopeLogs: [{
        scope: newScope("io.opentelemetry.logback", "2.10.0"),
        schemaUrl: "",
        logRecords: Array.from({ length: perResource }, (_, k) =>
          newLogRecord({
            timeUnixNano: 1_764_000_000_000_000_000n + BigInt(k),
            severityNumber: 9,
            severityText: "INFO",
            body: stringValue(
              `GET /api/v1/orders/${k} 200 ${
                k % 97
              }ms user=${i} trace=4bf92f3577b34da6a3ce929d0e0e4736`,
            ),
            attributes: [{ key: "http.route", value: stringValue("/api/v1/orders/{id}") }],
          })),
      }],
    });
  }
  return encodeLogsRequest(logs);
}

async function cpu(proc: K8sAttributesProcessor, count: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const perResource of SHAPES) {
    const records = 2000;
    const bodies = Array.from(
      { length: 16 },
      (_, s) => request(records / perResource, perResource, count, s),
    );
    let b = 0;
    const without = async () => {
      const logs = decodeLogsRequest(bodies[b++ % bodies.length]!);
      await noop.consume(logs, {});
      return encodeLogsRequest(logs).length;
    };
    const withProc = async () => {
      const logs = decodeLogsRequest(bodies[b++ % bodies.length]!);
      await proc.consume(logs, {});
      return encodeLogsRequest(logs).length;
    };
    const round = async (fn: () => Promise<number>): Promise<number> => {
      const start = process.cpuUsage();
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < 400) {
        await fn();
        n += records;
      }
      const used = process.cpuUsage(start);
      return n / ((used.user + used.system) / 1e6);
    };
    for (let i = 0; i < 5; i++) {
      await without();
      await withProc();
    }
    const a: number[] = [];
    const w: number[] = [];
    for (let r = 0; r < 5; r++) {
      a.push(await round(without));
      w.push(await round(withProc));
    }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    out[`withoutRecPerCpuS_${perResource}`] = median(a);
    out[`withRecPerCpuS_${perResource}`] = median(w);
  }
  return out;
}

// ---- end to end: the gateway as users run it ----
/**
 * The collector process (otlp → [k8sattributes →] batch → otlp_http) against a sink process,
 * fed 1,000-record requests by 4 concurrent senders here; returns its records per CPU-second.
 */
async function e2eRun(
  url: string,
  count: number,
  k8s: boolean,
  perResource: number,
  requests: number,
  preEnriched = false,
): Promise<number> {
  const dir = await Deno.makeTempDir();
  const sink = await Sink.start();
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    gatewayConfig(port, sink.port, { k8sattributes: k8s }),
  );
  await Deno.writeTextFile(
    `${dir}/kubeconfig`,
    `apiVersion: v1
kind: Config
current-context: bench
clusters: [{ name: fake, cluster: { server: "${url}" } }]
contexts: [{ name: bench, context: { cluster: fake } }]
`,
  );
  const c = await CollectorProcess.spawn({
    args: ["--config", `${dir}/config.yaml`],
    env: { KUBECONFIG: `${dir}/kubeconfig` },
  });
  try {
    const bodies = Array.from(
      { length: 32 },
      (_, s) => request(1000 / perResource, perResource, count, s, preEnriched),
    );
    let next = 0;
    const cpu0 = cpuSeconds(c.pid);
    const sender = async () => {
      while (next < requests) {
        const body = bodies[next++ % bodies.length]!;
        const r = await fetch(`http://127.0.0.1:${port}/v1/logs`, {
          method: "POST",
          headers: { "content-type": "application/x-protobuf" },
          body: body as Uint8Array<ArrayBuffer>,
        });
        await r.body?.cancel();
        if (r.status !== 200) throw new Error(`collector answered ${r.status}`);
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    await sink.until((s) => s.records >= requests * 1000, 300_000, "every record at the sink");
    return (requests * 1000) / (cpuSeconds(c.pid) - cpu0);
  } finally {
    await c.stop();
    await sink.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The least any processor adding the six default attributes costs per record at one record
 * per resource: encoding and gzip (level 6, otlp_http's default) of 8,192-record batches with
 * the six attributes already set, minus the same batches without them, in µs per record.
 * No lookup and no insert is counted: this is the cost of carrying the data downstream.
 */
function carryCost(count: number): { plainUs: number; enrichedUs: number } {
  const perRecordUs = (preEnriched: boolean): number => {
    const logs = decodeLogsRequest(request(8192, 1, count, 1, preEnriched));
    const once = () => zlib.gzipSync(encodeLogsRequest(logs)).length;
    for (let i = 0; i < 3; i++) once();
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const start = process.cpuUsage();
      let n = 0;
      for (let i = 0; i < 8; i++) n += once() > 0 ? 8192 : 0;
      const used = process.cpuUsage(start);
      runs.push((used.user + used.system) / n);
    }
    return runs.sort((a, b) => a - b)[2]!;
  };
  return { plainUs: perRecordUs(false), enrichedUs: perRecordUs(true) };
}

// ---- parent ----
async function child(args: string[]): Promise<Record<string, number>> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--v8-flags=--expose-gc,--max-old-space-size=8192", self, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!);
}

/** The fake API server with `count` pods in its own process: its URL, and a stop. */
async function startApi(count: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", self, "serve", String(count)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const url = (await reader.read()).value!.trim();
  const stop = async () => {
    server.kill();
    await server.status;
    await reader.cancel().catch(() => {});
  };
  return { url, stop };
}

async function main(): Promise<void> {
  const numbers = rest.filter((a) => /^\d+$/.test(a)).map(Number);
  const sizes = numbers.length > 0 ? numbers : [10_000, 100_000];
  const rows: string[] = [];
  let cpuResult: Record<string, number> | undefined;
  for (const n of sizes) {
    const { url, stop } = await startApi(n);
    try {
      const withCpu = n === Math.max(...sizes);
      const c = await child(["cache", url, String(n), ...(withCpu ? ["--cpu"] : [])]);
      const p = await child(["parsed", String(n)]);
      if (withCpu) cpuResult = c;
      rows.push(
        `${String(n).padStart(7)} pods | cache ${c.perPod!.toFixed(0).padStart(5)} B/pod | ` +
          `parsed JSON ${(p.perPod! / 1024).toFixed(1).padStart(5)} KiB/pod ` +
          `(${(p.jsonBytes! / 1024).toFixed(1)} KiB of JSON) | ` +
          `complete cache in ${(c.syncMs! / 1000).toFixed(2)} s, peak RSS ${
            c.peakRssMiB!.toFixed(0)
          } MiB (${c.rssBeforeMiB!.toFixed(0)} before) | loop lag p99 ${
            c.lagP99Ms!.toFixed(1)
          } ms, max ${c.lagMaxMs!.toFixed(1)} ms | baseline, the list read and discarded: ${
            (c.drainMs! / 1000).toFixed(2)
          } s, loop lag p99 ${c.drainLagP99Ms!.toFixed(1)} ms`,
      );
    } finally {
      await stop();
    }
  }
  console.log("k8sattributes cache (default config; one whole-list response, streamed):");
  for (const r of rows) console.log(`  ${r}`);
  if (rest.includes("--e2e") || rest.length === 0) {
    const n = Math.max(...sizes);
    const { url, stop } = await startApi(n);
    try {
      console.log(
        `k8sattributes end to end: collector process otlp → [k8sattributes →] batch → otlp_http → sink, ${n}-pod cache, 200,000 records:`,
      );
      for (const k of SHAPES) {
        const without = await e2eRun(url, n, false, k, 200);
        const withP = await e2eRun(url, n, true, k, 200);
        // The same records arriving with the six attributes already set, without the
        // processor: what encoding the larger resources costs downstream.
        const pre = k === 1 ? await e2eRun(url, n, false, k, 200, true) : undefined;
        const carry = k === 1 ? carryCost(n) : undefined;
        console.log(
          `  ${String(k).padStart(2)} record(s)/resource: without ${
            (without / 1000).toFixed(0)
          }k rec/CPU-s, ` +
            `with ${(withP / 1000).toFixed(0)}k rec/CPU-s: +${
              ((without / withP - 1) * 100).toFixed(1)
            } % CPU per record${
              pre === undefined
                ? ""
                : `; without, input already carrying the six attributes: ${
                  (pre / 1000).toFixed(0)
                }k rec/CPU-s`
            }`,
        );
        if (carry !== undefined) {
          const extraUs = carry.enrichedUs - carry.plainUs;
          const baseUs = 1e6 / without;
          console.log(
            `     floor at 1 record/resource: encoding + gzip -6 of the batches cost ${
              carry.plainUs.toFixed(2)
            } µs per record without the six attributes, ${
              carry.enrichedUs.toFixed(2)
            } µs with them: +${extraUs.toFixed(2)} µs = +${
              (extraUs / baseUs * 100).toFixed(1)
            } % of the baseline's ${baseUs.toFixed(2)} µs per record, before any lookup or insert`,
          );
        }
      }
    } finally {
      await stop();
    }
  }
  if (cpuResult) {
    console.log(
      `k8sattributes CPU, OTLP decode → processor → encode, ${Math.max(...sizes)}-pod cache:`,
    );
    for (const k of SHAPES) {
      const base = cpuResult[`withoutRecPerCpuS_${k}`]!;
      const withP = cpuResult[`withRecPerCpuS_${k}`]!;
      console.log(
        `  ${String(k).padStart(2)} record(s)/resource: without ${
          (base / 1000).toFixed(0)
        }k rec/CPU-s, ` +
          `with ${(withP / 1000).toFixed(0)}k rec/CPU-s: +${
            ((base / withP - 1) * 100).toFixed(1)
          } % CPU per record`,
      );
    }
  }
}

if (mode === "serve") await serve(Number(rest[0]));
else if (mode === "parsed") parsed(Number(rest[0]));
else if (mode === "cache") await cache(rest[0]!, Number(rest[1]));
else {
  if (mode !== undefined) rest.unshift(mode);
  await main();
}
