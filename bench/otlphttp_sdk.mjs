// @ts-check
/**
 * The workload of `otlphttp_bench.ts` and its OpenTelemetry JS SDK contender, in plain
 * JavaScript so the same code runs under Deno (the SDK imported as npm: modules) and under
 * Node (`otlphttp_sdk_node.mjs`, the SDK from an npm install), where SDK users run it.
 *
 * @module
 */

import process from "node:process";

/** The resource every record belongs to (a Kubernetes container). */
export const RESOURCE = {
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

/**
 * A 200-byte log line, different for every `i`.
 *
 * @param {number} i
 * @returns {string}
 */
export function line(i) {
  let s = `${new Date(1_700_000_000_000 + i).toISOString()} INFO id=${i}`;
  for (let w = i; s.length < 200; w = (w * 7 + 3) % 1009) s += ` ${WORDS[w % WORDS.length]}=${w}`;
  return s.slice(0, 200);
}

/**
 * Every record's text for `total` records, made before the clock starts (test data is not
 * the pipeline's cost).
 *
 * @param {number} total
 * @returns {string[]}
 */
export function makeLines(total) {
  return Array.from({ length: total }, (_, i) => line(i));
}

/** Records handed over at a time, and how many such chunks may await delivery at once. */
export const CHUNK = 100;
export const IN_FLIGHT_CHUNKS = 128;

/** CPU time (user + system, all threads) of this process so far, in ms. */
export function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * The sink's counters (it answers GET with them).
 *
 * @param {string} url
 * @returns {Promise<{ requests: number; records: number; bytes: number }>}
 */
export async function sinkStats(url) {
  return await (await fetch(url)).json();
}

/**
 * Runs `work` and measures it: this process's CPU and wall time, and the requests and bytes
 * the sink received meanwhile.
 *
 * @param {string} url the sink's base URL
 * @param {() => Promise<void>} work
 * @returns {Promise<{ cpuMs: number; wallMs: number; requests: number; bytes: number }>}
 */
export async function measure(url, work) {
  const before = await sinkStats(url);
  const t0 = performance.now();
  const c0 = cpuMs();
  await work();
  const cpu = cpuMs() - c0;
  const wallMs = performance.now() - t0;
  const after = await sinkStats(url);
  return {
    cpuMs: cpu,
    wallMs,
    requests: after.requests - before.requests,
    bytes: after.bytes - before.bytes,
  };
}

/**
 * @typedef {object} SdkModules
 * @property {any} LoggerProvider from `@opentelemetry/sdk-logs`
 * @property {any} BatchLogRecordProcessor from `@opentelemetry/sdk-logs`
 * @property {any} OTLPLogExporter from `@opentelemetry/exporter-logs-otlp-proto`
 * @property {any} resourceFromAttributes from `@opentelemetry/resources`
 */

/**
 * Exports `warmup` then `total` records through the SDK (BatchLogRecordProcessor with the
 * batch processor's defaults, OTLP/proto exporter) and measures the second part.
 *
 * @param {SdkModules} sdk
 * @param {string} url the sink's base URL
 * @param {number} total
 * @param {number} warmup
 * @param {string} compression "gzip" or "none"
 * @returns {Promise<{ cpuMs: number; wallMs: number; requests: number; bytes: number }>}
 */
export async function runSdk(sdk, url, total, warmup, compression) {
  const otlp = new sdk.OTLPLogExporter({ url: `${url}/v1/logs`, compression });
  // Counts what was exported, so the emitter below can wait as our producers do.
  let exported = 0;
  /** @type {(() => void) | undefined} */
  let wake;
  const exporter = {
    /** @param {unknown[]} records @param {(result: unknown) => void} done */
    export(records, done) {
      otlp.export(records, (/** @type {unknown} */ result) => {
        exported += records.length;
        wake?.();
        done(result);
      });
    },
    forceFlush: () => otlp.forceFlush(),
    shutdown: () => otlp.shutdown(),
  };
  // Same batching as the batch processor's defaults; the queue can hold everything, so the
  // SDK drops nothing.
  const processor = new sdk.BatchLogRecordProcessor({
    exporter,
    maxExportBatchSize: 8192,
    scheduledDelayMillis: 200,
    maxQueueSize: warmup + total,
    exportTimeoutMillis: 30_000,
  });
  const provider = new sdk.LoggerProvider({
    resource: sdk.resourceFromAttributes(RESOURCE),
    processors: [processor],
  });
  const logger = provider.getLogger("bench");
  const lines = makeLines(warmup + total);
  /** @param {number} start @param {number} end */
  const emit = async (start, end) => {
    for (let from = start; from < end; from += CHUNK) {
      for (let i = from; i < Math.min(from + CHUNK, end); i++) {
        const t = 1_700_000_000_000 + i;
        logger.emit({
          timestamp: t,
          observedTimestamp: t,
          severityNumber: 9,
          severityText: "INFO",
          body: lines[i],
        });
      }
      // At most as many records waiting for delivery as our 128 producers hold.
      while (Math.min(from + CHUNK, end) - exported > IN_FLIGHT_CHUNKS * CHUNK) {
        /** @type {Promise<void>} */
        const caughtUp = new Promise((resolve) => wake = () => resolve());
        await caughtUp;
      }
    }
  };
  await emit(0, warmup);
  await provider.forceFlush();
  return await measure(url, async () => {
    await emit(warmup, warmup + total);
    await provider.forceFlush();
    await provider.shutdown();
  });
}
