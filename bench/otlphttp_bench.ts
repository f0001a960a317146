/**
 * Records per CPU-second for 200-byte log records through batch → encode → gzip → POST to a
 * loopback OTLP sink that discards, next to the OpenTelemetry JS SDK
 * (`@opentelemetry/sdk-logs` 3.1.0 + `@opentelemetry/exporter-logs-otlp-proto` 0.301.0)
 * exporting the same records in the same run. Also measures gzip alone (the floor both
 * contenders share) and node:zlib's synchronous and callback APIs (in Deno 2.9 both block the
 * event loop for the whole compression).
 *
 * What is measured, the same way for both contenders:
 * - CPU time (user + system, all threads: compression and HTTP threads included) of the
 *   exporting process only. The sink runs in its own process and is not counted.
 * - Included: turning each prebuilt 200-byte line into a log record (our `LogRecord` objects
 *   in chunks of 100, as filelog hands them over / the SDK's `logger.emit`), batching (8192
 *   records or 200 ms), protobuf encoding, compression (each library's default gzip level: 6,
 *   as upstream's `compression_params` default), the POST and reading the answer.
 * - Excluded: generating the text lines, module loading and set-up, and a warm-up of
 *   `WARMUP` records pushed through the same pipeline first (a collector runs for days; the
 *   first records pay for JIT compilation, for both contenders alike).
 * - The same bound on records waiting for delivery (128 chunks of 100): our producers await
 *   `consume`; the SDK's emitter waits for its exporter to catch up (the SDK has no
 *   backpressure, so without that it would hold every record in memory).
 *
 * Run: deno run --allow-all --no-lock bench/otlphttp_bench.ts [records] [warm-up records]
 *
 * @module
 */

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
import {
  CHUNK,
  cpuMs,
  IN_FLIGHT_CHUNKS,
  makeLines,
  measure,
  RESOURCE,
  runSdk,
  sinkStats,
} from "./otlphttp_sdk.mjs";

const SDK_LOGS = "npm:@opentelemetry/sdk-logs@3.1.0";
const SDK_EXPORTER = "npm:@opentelemetry/exporter-logs-otlp-proto@0.301.0";
const SDK_RESOURCES = "npm:@opentelemetry/resources@3.1.0";

/** Records sent before the clock starts, by default. */
const WARMUP = 65_536;

function out(obj: unknown): void {
  console.log(JSON.stringify(obj));
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

function chunk(lines: string[], from: number, n: number): Logs {
  const logRecords: LogRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = BigInt(1_700_000_000_000 + from + i) * 1_000_000n;
    logRecords[i] = newLogRecord({
      timeUnixNano: t,
      observedTimeUnixNano: t,
      severityNumber: 9,
      severityText: "INFO",
      body: stringValue(lines[from + i]!),
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

async function runOurs(
  url: string,
  total: number,
  warmup: number,
  compression: string,
): Promise<void> {
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
  const lines = makeLines(warmup + total);
  // 100 records per consume (as filelog hands them over), 128 in flight: the batch
  // processor acknowledges after delivery, so producers overlap to fill its batches.
  const produce = async (start: number, end: number): Promise<void> => {
    let next = start;
    await Promise.all(Array.from({ length: IN_FLIGHT_CHUNKS }, async () => {
      while (next < end) {
        const from = next;
        const n = Math.min(CHUNK, end - from);
        next += n;
        await batch.consume(chunk(lines, from, n), {});
      }
    }));
  };
  await produce(0, warmup); // every consume resolved: all of it was delivered
  out(
    await measure(url, async () => {
      await produce(warmup, warmup + total);
      await batch.shutdown();
      await exporter.shutdown();
    }),
  );
}

// ---------------------------------------------------------------------------------------
// contender: the OpenTelemetry JS SDK (BatchLogRecordProcessor + OTLP/proto exporter, gzip).

async function runSdkInDeno(
  url: string,
  total: number,
  warmup: number,
  compression: string,
): Promise<void> {
  const logs = await import(SDK_LOGS);
  const sdk = {
    LoggerProvider: logs.LoggerProvider,
    BatchLogRecordProcessor: logs.BatchLogRecordProcessor,
    OTLPLogExporter: (await import(SDK_EXPORTER)).OTLPLogExporter,
    resourceFromAttributes: (await import(SDK_RESOURCES)).resourceFromAttributes,
  };
  out(await runSdk(sdk, url, total, warmup, compression));
}

// ---------------------------------------------------------------------------------------
// gzip of one full batch: on the main thread (gzipSync) or off it (async gzip).

/**
 * The longest time (ms) a 1 ms interval timer had to wait while `work` ran: how long the
 * event loop was blocked at a stretch.
 */
async function longestStall(work: () => Promise<void>): Promise<number> {
  let longest = 0;
  let last = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    if (last > 0) longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await pause(5); // the timer ticks before the work starts…
  await work();
  await pause(5); // …and after it, so the last stall is counted too
  clearInterval(timer);
  return longest;
}

async function runGzip(): Promise<void> {
  const body = encodeLogsRequest(chunk(makeLines(8192), 0, 8192));
  const gzip = promisify(zlib.gzip);
  const rounds = 10;
  const sync = { cpuMs: 0, wallMs: 0, stallMs: 0 };
  const async = { cpuMs: 0, wallMs: 0, stallMs: 0 };
  // Alternating, so both see the same machine; each call is followed by a yield to the
  // event loop, so the stall is one call's.
  for (let i = 0; i < rounds; i++) {
    for (
      const [m, run] of [[sync, () => zlib.gzipSync(body)], [async, () => gzip(body)]] as const
    ) {
      const c0 = cpuMs();
      const t0 = performance.now();
      await run();
      m.cpuMs += (cpuMs() - c0) / rounds;
      m.wallMs += (performance.now() - t0) / rounds;
    }
  }
  for (const [m, run] of [[sync, () => zlib.gzipSync(body)], [async, () => gzip(body)]] as const) {
    m.stallMs = await longestStall(async () => {
      for (let i = 0; i < 3; i++) {
        await run();
        await new Promise((r) => setTimeout(r, 0));
      }
    });
  }
  out({ bytes: body.length, records: 8192, sync, async });
}

// ---------------------------------------------------------------------------------------

/** Runs a child process and returns the JSON object on the last line it printed. */
async function childJson(command: string, args: string[]): Promise<Record<string, unknown>> {
  const res = await new Deno.Command(command, { args, stdout: "piped", stderr: "inherit" })
    .output();
  if (!res.success) throw new Error(`bench child ${command} ${args.join(" ")} failed`);
  const lines = new TextDecoder().decode(res.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!);
}

/** Runs this script in another Deno process in `mode`. */
function child(args: string[]): Promise<Record<string, unknown>> {
  const self = new URL(import.meta.url).pathname;
  return childJson(Deno.execPath(), ["run", "--allow-all", "--no-lock", self, ...args]);
}

// Node 22 from npm's `node` package: SDK 3.x requires Node >= 22.15, and the machine's own
// node may be older.
const NODE_SDK_PACKAGES = [
  "node@22",
  "@opentelemetry/sdk-logs@3.1.0",
  "@opentelemetry/exporter-logs-otlp-proto@0.301.0",
  "@opentelemetry/resources@3.1.0",
];

/**
 * Installs Node and the SDK with npm into a cache folder (once) for the SDK-on-Node
 * contender; returns the folder, or why that contender is skipped.
 */
async function installNodeSdk(): Promise<{ dir: string } | { skipped: string }> {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  const dir = `${cache}/otelcol-deno-bench/node-sdk-3.1.0`;
  const ready = [`${dir}/node_modules/.bin/node`, `${dir}/node_modules/@opentelemetry/sdk-logs`]
    .every((f) => {
      try {
        Deno.statSync(f);
        return true;
      } catch {
        return false;
      }
    });
  if (ready) return { dir };
  const args = ["install", "--prefix", dir, "--no-save", "--no-audit", "--no-fund"];
  try {
    const res = await new Deno.Command("npm", {
      args: [...args, "--loglevel=error", ...NODE_SDK_PACKAGES],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!res.success) {
      const why = new TextDecoder().decode(res.stderr).trim().split("\n").at(-1);
      return { skipped: `npm install failed: ${why}` };
    }
  } catch (err) {
    return { skipped: `npm is not available: ${err instanceof Error ? err.message : err}` };
  }
  return { dir };
}

interface RunResult {
  cpuMs: number;
  wallMs: number;
  /** Sink counters over the measured part only. */
  requests: number;
  bytes: number;
}

type Contender = "ours" | "sdk" | "sdk-node";

const NAMES: Record<Contender, string> = {
  ours: "otelcol-deno",
  sdk: "OpenTelemetry JS SDK in Deno",
  "sdk-node": "OpenTelemetry JS SDK in Node 22",
};

async function main(total: number, warmup: number): Promise<void> {
  const sink = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-lock", new URL(import.meta.url).pathname, "sink"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = sink.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) first += (await reader.read()).value ?? "";
  const url: string = JSON.parse(first.split("\n")[0]!).url;
  const nodeSdk = await installNodeSdk();
  const contenders: Contender[] = ["ours", "sdk"];
  if ("dir" in nodeSdk) contenders.push("sdk-node");
  const run = async (who: Contender, compression: string, label: string): Promise<number> => {
    const before = await sinkStats(url);
    const args = [url, String(total), String(warmup), compression];
    const r =
      (who === "sdk-node" && "dir" in nodeSdk
        ? await childJson(`${nodeSdk.dir}/node_modules/.bin/node`, [
          new URL("./otlphttp_sdk_node.mjs", import.meta.url).pathname,
          nodeSdk.dir,
          ...args,
        ])
        : await child([who, ...args])) as unknown as RunResult;
    const after = await sinkStats(url);
    const got = after.records - before.records;
    if (got !== total + warmup) {
      throw new Error(`${label}: the sink got ${got} of ${total + warmup} records`);
    }
    const rate = total / (r.cpuMs / 1000);
    console.log(
      `  ${label.padEnd(50)} ${rate.toFixed(0).padStart(14)} ${
        (r.cpuMs * 1000 / total).toFixed(2).padStart(6)
      } ${(r.cpuMs / 1000).toFixed(2).padStart(7)} ${(r.wallMs / 1000).toFixed(2).padStart(7)} ${
        String(r.requests).padStart(9)
      } ${(r.bytes / 1024).toFixed(0).padStart(9)}`,
    );
    return rate;
  };
  try {
    console.log(
      `otlphttp: ${total} records of 200 bytes (after ${warmup} warm-up records), ` +
        "batch (8192 / 200ms) → protobuf → compress → POST",
    );
    if ("skipped" in nodeSdk) console.log(`  (the SDK in Node is skipped: ${nodeSdk.skipped})`);
    console.log(
      `  ${"contender".padEnd(50)} ${"records/CPU-s".padStart(14)} ${"µs/rec".padStart(6)} ${
        "CPU s".padStart(7)
      } ${"wall s".padStart(7)} ${"requests".padStart(9)} ${"KiB sent".padStart(9)}`,
    );
    // Two rounds each, alternating, so none profits from a warmer machine; best of two.
    const best: Record<string, number> = {};
    for (const compression of ["gzip", "none"]) {
      for (let round = 1; round <= 2; round++) {
        for (const who of contenders) {
          const name = `${NAMES[who]}, ${compression}`;
          best[name] = Math.max(
            best[name] ?? 0,
            await run(who, compression, `${name} (round ${round})`),
          );
        }
      }
      for (const sdk of contenders.filter((c) => c !== "ours")) {
        const ratio = best[`${NAMES.ours}, ${compression}`]! /
          best[`${NAMES[sdk]}, ${compression}`]!;
        console.log(
          `  → ${compression}: otelcol-deno does ${ratio.toFixed(2)}× the records per ` +
            `CPU-second of the ${NAMES[sdk]} (best of two)`,
        );
      }
    }
    // Settings the SDK does not offer: gzip level 1 (compression_params) and zstd.
    await run("ours", "gzip:1", "otelcol-deno, gzip level 1");
    await run("ours", "zstd", "otelcol-deno, zstd (level 1, upstream's default)");
    const gz = await child(["gzip"]) as {
      bytes: number;
      records: number;
      sync: { cpuMs: number; wallMs: number; stallMs: number };
      async: { cpuMs: number; wallMs: number; stallMs: number };
    };
    console.log(
      `gzip (level 6) of one ${gz.records}-record batch (${
        (gz.bytes / 1024).toFixed(0)
      } KiB protobuf):`,
    );
    for (
      const [name, m] of [["zlib.gzipSync", gz.sync], ["zlib.gzip (callback)", gz.async]] as const
    ) {
      console.log(
        `  ${name.padEnd(21)} ${m.wallMs.toFixed(2)} ms wall, ${m.cpuMs.toFixed(2)} ms CPU, ` +
          `event loop blocked up to ${m.stallMs.toFixed(1)} ms at a stretch`,
      );
    }
    // Our gzip of the batch is a floor for our cost per record: even if everything else were
    // free, the ratio to a contender could not exceed (its cost ÷ gzip alone).
    const gzipUs = gz.sync.cpuMs * 1000 / gz.records;
    const oursUs = 1e6 / best[`${NAMES.ours}, gzip`]!;
    console.log(`  per record: gzip ${gzipUs.toFixed(2)} µs of our ${oursUs.toFixed(2)} µs`);
    for (const sdk of contenders.filter((c) => c !== "ours")) {
      const sdkUs = 1e6 / best[`${NAMES[sdk]}, gzip`]!;
      console.log(
        `  the ${NAMES[sdk]} takes ${sdkUs.toFixed(2)} µs: with gzip level 6 the ratio ` +
          `cannot exceed ${(sdkUs / gzipUs).toFixed(2)}× (its cost ÷ our gzip alone)`,
      );
    }
  } finally {
    sink.kill("SIGTERM");
    await sink.status;
  }
}

const [mode, ...rest] = Deno.args;
if (mode === "sink") await runSink();
else if (mode === "ours") await runOurs(rest[0]!, Number(rest[1]), Number(rest[2]), rest[3]!);
else if (mode === "sdk") await runSdkInDeno(rest[0]!, Number(rest[1]), Number(rest[2]), rest[3]!);
else if (mode === "gzip") await runGzip();
else await main(Number(mode ?? 200_000), Number(rest[0] ?? WARMUP));
