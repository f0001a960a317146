// @ts-check
/**
 * Runs the OpenTelemetry JS SDK contender of `otlphttp_bench.ts` under Node, with the SDK
 * packages from an npm install in `dir` (made by that bench). Prints one JSON line.
 *
 * Run: node bench/otlphttp_sdk_node.mjs <dir> <sink url> <records> <warm-up> <compression>
 *
 * @module
 */

import { createRequire } from "node:module";
import { join } from "node:path";
import process from "node:process";
import { runSdk } from "./otlphttp_sdk.mjs";

const [dir, url, total, warmup, compression] = process.argv.slice(2);
if (compression === undefined) {
  console.error("usage: otlphttp_sdk_node.mjs <dir> <url> <records> <warm-up> <compression>");
  process.exit(2);
}
const require = createRequire(join(dir, "package.json"));
const logs = require("@opentelemetry/sdk-logs");
const sdk = {
  LoggerProvider: logs.LoggerProvider,
  BatchLogRecordProcessor: logs.BatchLogRecordProcessor,
  OTLPLogExporter: require("@opentelemetry/exporter-logs-otlp-proto").OTLPLogExporter,
  resourceFromAttributes: require("@opentelemetry/resources").resourceFromAttributes,
};
const result = await runSdk(sdk, url, Number(total), Number(warmup), compression);
console.log(JSON.stringify({ ...result, node: process.version }));
