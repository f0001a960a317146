// The event-loop stall of decoding one large OTLP/JSON request (20 MiB, the otlp receiver's
// default max_request_body_size): the whole-body decode (`JSON.parse` and one walk, as the
// receiver did before) next to the sliced decode it uses now, in the same run. A 1 ms timer
// chain runs meanwhile; its longest gap is the longest time nothing else could run.
//
// Run: deno run bench/json_decode_stall_bench.ts

import { decodeLogsRequestJson, encodeLogsRequestJson } from "../core/pdata/otlp_json.ts";
import { sampleLogs } from "../core/pdata/testing.ts";
import { decodeLogsRequestJsonSliced } from "../receivers/otlp/sliced_json.ts";

const MiB = 1024 * 1024;
const ROUNDS = 5;

/** Grows a request of sample records to about `bytes` of JSON. */
function requestText(bytes: number): string {
  const probe = encodeLogsRequestJson(sampleLogs(1000)).length;
  return encodeLogsRequestJson(sampleLogs(Math.floor((1000 * bytes) / probe)));
}

/** Runs `decode` once with a 1 ms timer chain beside it: wall ms and the longest gap. */
async function measure(decode: () => unknown): Promise<{ wallMs: number; gapMs: number }> {
  let gap = 0;
  let last = performance.now();
  let running = true;
  const tick = () => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
    if (running) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  await decode();
  const wallMs = performance.now() - t0;
  running = false;
  await new Promise((r) => setTimeout(r, 5));
  return { wallMs, gapMs: gap };
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const text = requestText(20 * MiB);
console.log(
  `one OTLP/JSON request of ${(text.length / MiB).toFixed(1)} MiB; median of ${ROUNDS} rounds`,
);
console.log("| decode | wall ms | longest event-loop stall ms |");
console.log("|---|---:|---:|");
for (
  const [what, decode] of [
    ["whole (JSON.parse + walk)", () => decodeLogsRequestJson(text)],
    ["sliced (receiver)", () => decodeLogsRequestJsonSliced(text)],
  ] as const
) {
  await measure(decode); // warm-up
  const runs = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(await measure(decode));
  console.log(
    `| ${what} | ${median(runs.map((r) => r.wallMs)).toFixed(0)} | ${
      median(runs.map((r) => r.gapMs)).toFixed(1)
    } |`,
  );
}
