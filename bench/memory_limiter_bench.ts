/**
 * The memory limiter's costs and its figure: one check (reading the resident set), one forced
 * full collection at several live-heap sizes, what a collection does to RSS and to V8's own
 * figure (heap + external) after releasing garbage, and an idle gateway's RSS next to V8's
 * figure. Baselines in the same run: a check through `node:process`, a collection of an
 * empty heap.
 *
 * Run: deno run --allow-all bench/memory_limiter_bench.ts
 *
 * @module
 */

import process from "node:process";
import { BUILTIN_FACTORIES } from "../components.ts";
import { Collector } from "../core/service/collector.ts";
import { findForcedGc, residentMemory } from "../processors/memory_limiter/memory.ts";

const MIB = 1024 * 1024;

/** V8's own figure (heap in use + external), for comparison with the resident set. */
function v8Figure(): number {
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}
const gc = findForcedGc();
if (gc === undefined) throw new Error("no way to force a collection in this runtime");

function perCall(fn: () => unknown, n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - t0) * 1000 / n;
}

function gcMs(): number {
  const t0 = performance.now();
  gc!();
  return performance.now() - t0;
}

// An idle gateway: otlp (HTTP) → memory_limiter → batch → otlp_http.
const collector = await Collector.fromSources(
  {
    uris: [
      "yaml:" + JSON.stringify({
        receivers: {
          otlp: {
            protocols: { http: { endpoint: "127.0.0.1:0" } },
          },
        },
        processors: { memory_limiter: { check_interval: "1s", limit_mib: 400 }, batch: {} },
        exporters: { otlp_http: { endpoint: "http://127.0.0.1:1" } },
        service: {
          telemetry: { metrics: { level: "none" } },
          pipelines: {
            logs: {
              receivers: ["otlp"],
              processors: ["memory_limiter", "batch"],
              exporters: ["otlp_http"],
            },
          },
        },
      }),
    ],
  },
  BUILTIN_FACTORIES,
  { logSink: () => {} },
);
await collector.start();
gc();
const idle = Deno.memoryUsage();
console.log(
  `idle gateway collector: RSS ${(idle.rss / MIB).toFixed(0)} MiB, ` +
    `heap+external ${((idle.heapUsed + idle.external) / MIB).toFixed(0)} MiB ` +
    `(RSS outside V8's figure: ${
      ((idle.rss - idle.heapUsed - idle.external) / MIB).toFixed(0)
    } MiB)`,
);
await collector.shutdown();

perCall(residentMemory, 1000);
console.log(
  `one check (Deno.memoryUsage().rss): ${perCall(residentMemory, 20_000).toFixed(1)} µs` +
    `   baseline process.memoryUsage(): ${
      perCall(() => process.memoryUsage(), 20_000).toFixed(1)
    } µs`,
);

gc();
console.log(`forced GC, empty heap (baseline): ${gcMs().toFixed(1)} ms`);
for (const mib of [64, 256, 512]) {
  // Live objects of ~100 B each: strings in small records, like decoded log records.
  const live = Array.from({ length: Math.round(mib * MIB / 100) }, (_, i) => ({ i, s: `r${i}` }));
  const inUse = v8Figure() / MIB;
  const times = [gcMs(), gcMs(), gcMs()].sort((a, b) => a - b);
  console.log(
    `forced GC, ${inUse.toFixed(0)} MiB of V8 heap + external (${live.length} live objects): ` +
      `${times[0]!.toFixed(0)}–${times[2]!.toFixed(0)} ms`,
  );
}

gc();
const before = { inUse: v8Figure(), rss: Deno.memoryUsage().rss };
let garbage: Uint8Array[] | undefined = Array.from(
  { length: 256 },
  () => new Uint8Array(MIB).fill(1),
);
let objects: unknown[] | undefined = Array.from(
  { length: 1_000_000 },
  (_, i) => ({ i, s: `x${i}` }),
);
const held = { inUse: v8Figure(), rss: Deno.memoryUsage().rss };
garbage = undefined;
objects = undefined;
gc();
const after = { inUse: v8Figure(), rss: Deno.memoryUsage().rss };
const d = (a: number, b: number) => ((a - b) / MIB).toFixed(0);
console.log(
  `256 MiB of buffers + 1M objects allocated then released and collected: ` +
    `heap+external +${d(held.inUse, before.inUse)} MiB → +${d(after.inUse, before.inUse)} MiB; ` +
    `RSS +${d(held.rss, before.rss)} MiB → +${d(after.rss, before.rss)} MiB`,
  garbage ?? "",
  objects ?? "",
);
