/**
 * Records per CPU-second for 200-byte log records through batch → encode → gzip → POST to a
 * loopback OTLP sink that discards, next to the OpenTelemetry JS SDK
 * (`@opentelemetry/sdk-logs` 3.1.0 + `@opentelemetry/exporter-logs-otlp-proto` 0.301.0)
 * exporting the same records in the same run. Also compares gzip off and on the main thread.
 *
 * Each contender runs in its own process, and so does the sink, so a process's CPU time is
 * its own work only. Run: deno run --allow-all bench/otlphttp_bench.ts [records]
 *
 * @module
 */

import process from "node:process";
import zlib from "node:zlib";
import { promisify } from "node:util";
import { ComponentId, type CreateSettings, type Host } from "../core/component.ts";
import { fromPlain } from "../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../core/config/reader.ts";
import { type LogRecord, type Logs, newLogRecord, stringValue } from "../core/pdata/logs.ts";
import { decodeLogsRequest, encodeLogsRequest } from "../core/pdata/otlp_proto.ts";
import { nopLogger } from "../core/telemetry/logger.ts";
import { MetricsRegistry } from "../core/telemetry/metrics.ts";
import { otlpHttpFactory } from "../exporters/otlphttp/mod.ts";
import { batchFactory } from "../processors/batch/mod.ts";

const SDK_LOGS = "npm:@opentelemetry/sdk-logs@3.1.0";
const SDK_EXPORTER = "npm:@opentelemetry/exporter-logs-otlp-proto@0.301.0";
const SDK_RESOURCES = "npm:@opentelemetry/resources@3.1.0";

const RESOURCE = {
  "k8s.namespace.name": "payments",
  "k8s.pod.name": "checkout-7d9f8b6c5d-x2x7q",
  "k8s.container.name": "checkout",
  "k8s.node.name": "node-a-17",
};
const WORDS = [
  "request",
  "handled",
  "user",
  "cart",
  "latency",
  "status",
  "upstream",
  "retry",
  "cache",
  "token",
];

/** A 200-byte log line, different for every `i`. */
function line(i: number): string {
  let s = `${new Date(1_700_000_000_000 + i).toISOString()} INFO id=${i}`;
  for (let w = i; s.length < 200; w = (w * 7 + 3) % 1009) s += ` ${WORDS[w % WORDS.length]}=${w}`;
  return s.slice(0, 200);
}

/** Every record's text, made before the clock starts (test data is not the pipeline's cost). */
let LINES: string[] = [];
function makeLines(total: number): void {
  LINES = Array.from({ length: total }, (_, i) => line(i));
}

function out(obj: unknown): void {
  console.log(JSON.stringify(obj));
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// ---------------------------------------------------------------------------------------
// sink process: decompress, count records with our decoder, answer 200; nothing is kept.

async function runSink(): Promise<void> {
  let requests = 0;
  let records = 0;
  let bytes = 0;
  const gunzip = promisify(zlib.gunzip);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    if (req.method === "GET") return Response.json({ requests, records, bytes });
    const body = new Uint8Array(await req.arrayBuffer());
    bytes += body.length;
    const encoding = req.headers.get("content-encoding");
    const raw = encoding === "gzip"
      ? new Uint8Array(await gunzip(body))
      : encoding === "zstd"
      ? new Uint8Array(zlib.zstdDecompressSync(body))
      : body;
    for (const rl of decodeLogsRequest(raw).resourceLogs) {
      for (const sl of rl.scopeLogs) records += sl.logRecords.length;
    }
    requests++;
    return new Response(new Uint8Array(0), {
      headers: { "content-type": "application/x-protobuf" },
    });
  });
  out({ url: `http://127.0.0.1:${server.addr.port}` });
  await server.finished;
}

// ---------------------------------------------------------------------------------------
// contender: this project (batch processor → otlp_http exporter, defaults, gzip).

function chunk(from: number, n: number): Logs {
  const logRecords: LogRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = BigInt(1_700_000_000_000 + from + i) * 1_000_000n;
    logRecords[i] = newLogRecord({
      timeUnixNano: t,
      observedTimeUnixNano: t,
      severityNumber: 9,
      severityText: "INFO",
      body: stringValue(LINES[from + i]!),
    });
  }
  return {
    resourceLogs: [{
      resource: {
        attributes: Object.entries(RESOURCE).map(([key, v]) => ({ key, value: stringValue(v) })),
        droppedAttributesCount: 0,
      },
      schemaUrl: "",
      scopeLogs: [{
        scope: { name: "bench", version: "", attributes: [], droppedAttributesCount: 0 },
        schemaUrl: "",
        logRecords,
      }],
    }],
  };
}

function read<C>(factory: { parseConfig(r: ConfigReader): C }, plain: unknown): C {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "bench", issues);
  const cfg = factory.parseConfig(r);
  r.done();
  if (issues.errors.length > 0) throw new Error(JSON.stringify(issues.errors));
  return cfg;
}

async function runOurs(url: string, total: number, compression: string): Promise<void> {
  const settings = (id: string, kind: CreateSettings["kind"]): CreateSettings => ({
    id: ComponentId.parse(id),
    kind,
    logger: nopLogger(),
    metrics: new MetricsRegistry(),
    componentLabels: {},
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  });
  const host: Host = { getExtension: () => undefined, reportFatalError: (e) => console.error(e) };
  const [kind, level] = compression.split(":");
  const exporter = otlpHttpFactory.create(
    settings("otlp_http", "exporter"),
    read(otlpHttpFactory, {
      endpoint: url,
      compression: kind,
      ...(level ? { compression_params: { level: Number(level) } } : {}),
    }),
  );
  const batch = batchFactory.create(
    settings("batch", "processor"),
    read(batchFactory, {}),
    exporter,
  );
  await exporter.start(host);
  await batch.start(host);
  makeLines(total);
  const t0 = performance.now();
  const c0 = cpuMs();
  // 100 records per consume (as filelog hands them over), 128 in flight: the batch
  // processor acknowledges after delivery, so producers overlap to fill its batches.
  let next = 0;
  await Promise.all(Array.from({ length: 128 }, async () => {
    while (next < total) {
      const from = next;
      const n = Math.min(100, total - from);
      next += n;
      await batch.consume(chunk(from, n), {});
    }
  }));
  await batch.shutdown();
  await exporter.shutdown();
  out({ cpuMs: cpuMs() - c0, wallMs: performance.now() - t0 });
}

// ---------------------------------------------------------------------------------------
// contender: the OpenTelemetry JS SDK (BatchLogRecordProcessor + OTLP/proto exporter, gzip).

async function runSdk(url: string, total: number, compression: string): Promise<void> {
  const { LoggerProvider, BatchLogRecordProcessor } = await import(SDK_LOGS);
  const { OTLPLogExporter } = await import(SDK_EXPORTER);
  const { resourceFromAttributes } = await import(SDK_RESOURCES);
  const exporter = new OTLPLogExporter({ url: `${url}/v1/logs`, compression });
  // Same batching as the batch processor's defaults; the queue holds everything, so the
  // SDK drops nothing.
  const processor = new BatchLogRecordProcessor({
    exporter,
    maxExportBatchSize: 8192,
    scheduledDelayMillis: 200,
    maxQueueSize: total,
    exportTimeoutMillis: 30_000,
  });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(RESOURCE),
    processors: [processor],
  });
  const logger = provider.getLogger("bench");
  makeLines(total);
  const t0 = performance.now();
  const c0 = cpuMs();
  for (let from = 0; from < total; from += 100) {
    for (let i = from; i < Math.min(from + 100, total); i++) {
      const t = 1_700_000_000_000 + i;
      logger.emit({
        timestamp: t,
        observedTimestamp: t,
        severityNumber: 9,
        severityText: "INFO",
        body: LINES[i]!,
      });
    }
    // Let the processor's timer and exports run, as an application's event loop would.
    if (from % 8192 === 0) await new Promise((r) => setTimeout(r, 0));
  }
  await provider.forceFlush();
  await provider.shutdown();
  out({ cpuMs: cpuMs() - c0, wallMs: performance.now() - t0 });
}

// ---------------------------------------------------------------------------------------
// gzip of one full batch: on the main thread (gzipSync) or off it (async gzip).

async function runGzip(): Promise<void> {
  makeLines(8192);
  const body = encodeLogsRequest(chunk(0, 8192));
  const gzip = promisify(zlib.gzip);
  const rounds = 20;
  let c0 = cpuMs();
  let t0 = performance.now();
  for (let i = 0; i < rounds; i++) zlib.gzipSync(body);
  const sync = { cpuMs: (cpuMs() - c0) / rounds, wallMs: (performance.now() - t0) / rounds };
  c0 = cpuMs();
  t0 = performance.now();
  for (let i = 0; i < rounds; i++) await gzip(body);
  const async = { cpuMs: (cpuMs() - c0) / rounds, wallMs: (performance.now() - t0) / rounds };
  // How long the event loop is blocked while one async gzip runs: the longest timer lag.
  let maxLag = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 1);
    last = now;
  }, 1);
  for (let i = 0; i < rounds; i++) await gzip(body);
  clearInterval(timer);
  out({ bytes: body.length, sync, async, asyncMaxLoopLagMs: maxLag });
}

// ---------------------------------------------------------------------------------------

async function child(args: string[]): Promise<Record<string, unknown>> {
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-lock", new URL(import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!res.success) throw new Error(`bench child ${args[0]} failed`);
  const lines = new TextDecoder().decode(res.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!);
}

async function main(total: number): Promise<void> {
  const sink = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-lock", new URL(import.meta.url).pathname, "sink"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = sink.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) first += (await reader.read()).value ?? "";
  const url: string = JSON.parse(first.split("\n")[0]!).url;
  const stats = async (): Promise<{ requests: number; records: number; bytes: number }> =>
    await (await fetch(url)).json();
  const run = async (who: "ours" | "sdk", compression: string, label: string): Promise<number> => {
    const before = await stats();
    const r = await child([who, url, String(total), compression]) as {
      cpuMs: number;
      wallMs: number;
    };
    const after = await stats();
    const got = after.records - before.records;
    if (got !== total) throw new Error(`${label}: the sink got ${got} of ${total} records`);
    const rate = total / (r.cpuMs / 1000);
    console.log(
      `  ${label.padEnd(44)} ${rate.toFixed(0).padStart(14)} ${
        (r.cpuMs / 1000).toFixed(2).padStart(7)
      } ${(r.wallMs / 1000).toFixed(2).padStart(7)} ${
        String(after.requests - before.requests).padStart(9)
      } ${((after.bytes - before.bytes) / 1024).toFixed(0).padStart(9)}`,
    );
    return rate;
  };
  try {
    console.log(
      `otlphttp: ${total} records of 200 bytes, batch (8192 / 200ms) → protobuf → compress → POST`,
    );
    console.log(
      `  ${"contender".padEnd(44)} ${"records/CPU-s".padStart(14)} ${"CPU s".padStart(7)} ${
        "wall s".padStart(7)
      } ${"requests".padStart(9)} ${"KiB sent".padStart(9)}`,
    );
    // Two rounds each, alternating, so neither profits from a warmer machine; best of two.
    const best: Record<string, number> = {};
    for (const compression of ["gzip", "none"]) {
      for (let round = 1; round <= 2; round++) {
        for (const who of ["ours", "sdk"] as const) {
          const name = `${
            who === "ours" ? "otelcol-deno" : "OpenTelemetry JS SDK"
          }, ${compression}`;
          best[name] = Math.max(
            best[name] ?? 0,
            await run(who, compression, `${name} (round ${round})`),
          );
        }
      }
      const ratio = best[`otelcol-deno, ${compression}`]! /
        best[`OpenTelemetry JS SDK, ${compression}`]!;
      console.log(
        `  → ${compression}: otelcol-deno does ${
          ratio.toFixed(2)
        }× the SDK's records per CPU-second (best of two)`,
      );
    }
    // Settings the SDK does not offer: gzip level 1 (compression_params) and zstd.
    await run("ours", "gzip:1", "otelcol-deno, gzip level 1");
    await run("ours", "zstd", "otelcol-deno, zstd");
    const gz = await child(["gzip"]) as {
      bytes: number;
      sync: { cpuMs: number; wallMs: number };
      async: { cpuMs: number; wallMs: number };
      asyncMaxLoopLagMs: number;
    };
    console.log(`gzip of one 8192-record batch (${(gz.bytes / 1024).toFixed(0)} KiB protobuf):`);
    console.log(
      `  gzipSync     ${gz.sync.wallMs.toFixed(2)} ms wall, ${
        gz.sync.cpuMs.toFixed(2)
      } ms CPU, blocks the event loop for all of it`,
    );
    console.log(
      `  async gzip   ${gz.async.wallMs.toFixed(2)} ms wall, ${
        gz.async.cpuMs.toFixed(2)
      } ms CPU, event loop lag at most ${gz.asyncMaxLoopLagMs.toFixed(2)} ms`,
    );
  } finally {
    sink.kill("SIGTERM");
    await sink.status;
  }
}

const [mode, ...rest] = Deno.args;
if (mode === "sink") await runSink();
else if (mode === "ours") await runOurs(rest[0]!, Number(rest[1]), rest[2]!);
else if (mode === "sdk") await runSdk(rest[0]!, Number(rest[1]), rest[2]!);
else if (mode === "gzip") await runGzip();
else await main(Number(mode ?? 200_000));
