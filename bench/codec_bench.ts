// OTLP logs codec throughput: the hand-written codec next to the generated @bufbuild code,
// measured in the same run on 8,192 realistic container log records (~210 B each as protobuf).
//
// Run: deno run bench/codec_bench.ts            (from the repo root; no permissions needed)
//
// "@bufbuild" is the generated code's own encode/decode of its message objects; the last
// column adds the conversion between those objects and this project's data model, which a
// pipeline built on the generated code would also pay. "encode JSON" includes the UTF-8
// encoding of the text, which is what goes on the wire (and makes a string built by
// concatenation pay for its flattening, which would otherwise be hidden).

import { fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { ExportLogsServiceRequestSchema } from "../core/pdata/gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.ts";
import { decodeLogsRequest, encodeLogsRequest } from "../core/pdata/otlp_proto.ts";
import { decodeLogsRequestJson, encodeLogsRequestJson } from "../core/pdata/otlp_json.ts";
import { fromGenerated, sampleLogs, toGenerated } from "../core/pdata/testing.ts";

const RECORDS = 8192;
const ROUNDS = 5;
const ROUND_MS = 250;

const logs = sampleLogs(RECORDS);
const generated = toGenerated(logs);
const protoBytes = encodeLogsRequest(logs);
const jsonText = encodeLogsRequestJson(logs);
const schema = ExportLogsServiceRequestSchema;
const utf8 = new TextEncoder();

let sink = 0; // keeps results observable so nothing is optimised away

/** Records per second of one ~ROUND_MS round of `fn` over the whole batch. */
function round(fn: () => unknown): number {
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    const r = fn() as { length?: number };
    sink += r && typeof r.length === "number" ? r.length : 1;
    n++;
    elapsed = performance.now() - start;
  } while (elapsed < ROUND_MS);
  return (RECORDS * n) / (elapsed / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Measures the candidates in interleaved rounds (fairer on a shared CPU); returns medians. */
function compare(fns: Array<() => unknown>): number[] {
  for (const fn of fns) for (let i = 0; i < 3; i++) fn(); // warm up
  const results = fns.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) fns.forEach((fn, i) => results[i].push(round(fn)));
  return results.map(median);
}

function fmt(recPerSec: number): string {
  return `${(recPerSec / 1000).toFixed(0).padStart(6)}k rec/s`;
}

const cases: Array<[string, () => unknown, () => unknown, () => unknown]> = [
  [
    "encode proto",
    () => encodeLogsRequest(logs),
    () => toBinary(schema, generated),
    () => toBinary(schema, toGenerated(logs)),
  ],
  [
    "decode proto",
    () => decodeLogsRequest(protoBytes),
    () => fromBinary(schema, protoBytes),
    () => fromGenerated(fromBinary(schema, protoBytes)),
  ],
  [
    "encode JSON",
    () => utf8.encode(encodeLogsRequestJson(logs)),
    () => utf8.encode(toJsonString(schema, generated)),
    () => utf8.encode(toJsonString(schema, toGenerated(logs))),
  ],
  [
    "decode JSON",
    () => decodeLogsRequestJson(jsonText),
    () => fromJsonString(schema, jsonText),
    () => fromGenerated(fromJsonString(schema, jsonText)),
  ],
];

console.log(
  `${RECORDS} records, ${(protoBytes.length / RECORDS).toFixed(0)} B/record as protobuf, ` +
    `${(jsonText.length / RECORDS).toFixed(0)} B/record as JSON; median of ${ROUNDS} rounds ` +
    `(Deno ${Deno.version.deno}, V8 ${Deno.version.v8})\n`,
);
console.log(
  `${"".padEnd(14)}${"hand-written".padEnd(18)}${"@bufbuild".padEnd(18)}${"speedup".padEnd(9)}` +
    "@bufbuild + model conversion",
);
for (const [name, mine, theirs, theirsConverted] of cases) {
  const [a, b, c] = compare([mine, theirs, theirsConverted]);
  console.log(
    `${name.padEnd(14)}${fmt(a)}    ${fmt(b)}    ${(a / b).toFixed(1).padStart(4)}×   ${fmt(c)}`,
  );
}
if (sink < 0) console.log(sink);
