/**
 * What a compiled OTTL condition costs per record, next to the same test written by hand in
 * JavaScript (the floor), and the filter processor's pass over a batch next to the deep copy
 * of that batch (which a test harness needs per run and fan-out pays per mutating consumer).
 * Also the heap growth over a million evaluations, to show the hot path allocates nothing.
 *
 * Run: deno run --allow-all --v8-flags=--expose-gc bench/filter_bench.ts
 *
 * @module
 */

import {
  type AnyValue,
  cloneLogs,
  type Logs,
  newLogRecord,
  newResource,
  newScope,
  stringValue,
} from "../core/pdata/logs.ts";
import { namespacedLogs, Prng } from "../core/pdata/testing.ts";
import { compileCondition, type EvalContext } from "../pkg/ottl/mod.ts";
import { capture, parseWith, testSettings } from "../tests/fakes/component_harness.ts";
import { parseFilterConfig } from "../processors/filter/config.ts";
import { FilterProcessor } from "../processors/filter/filter_processor.ts";

const CONDITION =
  'resource.attributes["k8s.namespace.name"] == "kube-system" or (severity_number < SEVERITY_NUMBER_INFO and IsMatch(body, "^GET /healthz"))';

function batch(records: number): Logs {
  const p = new Prng(1);
  return namespacedLogs(p, {
    records,
    perResource: 256,
    namespaces: ["kube-system", "default", "payments", "monitoring"],
    record: () =>
      newLogRecord({
        severityNumber: p.pick([5, 9, 13, 17]),
        body: stringValue(p.pick(["GET /healthz 200 1ms", "payment accepted id=42", "cache miss"])),
        attributes: [{ key: "log.iostream", value: stringValue("stdout") }],
      }),
  });
}

const handWritten = (c: EvalContext): boolean => {
  const ns = c.resource.attributes.find((a) => a.key === "k8s.namespace.name")?.value;
  if (ns?.kind === "string" && ns.value === "kube-system") return true;
  const body = c.record.body as AnyValue | undefined;
  return c.record.severityNumber < 9 && body?.kind === "string" &&
    /^GET \/healthz/.test(body.value);
};

function evalAll(logs: Logs, fn: (c: EvalContext) => boolean, c: EvalContext): number {
  let n = 0;
  const rls = logs.resourceLogs;
  for (let i = 0; i < rls.length; i++) {
    c.resource = rls[i]!.resource;
    const sls = rls[i]!.scopeLogs;
    for (let j = 0; j < sls.length; j++) {
      c.scope = sls[j]!.scope;
      const records = sls[j]!.logRecords;
      for (let k = 0; k < records.length; k++) {
        c.record = records[k]!;
        if (fn(c)) n++;
      }
    }
  }
  return n;
}

function nsPerRecord(records: number, rounds: number, fn: () => void): number {
  for (let i = 0; i < 3; i++) fn(); // warm up
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) fn();
  return ((performance.now() - t0) * 1e6) / (records * rounds);
}

const RECORDS = 8192;
const logs = batch(RECORDS);
const ctx: EvalContext = {
  resource: newResource(),
  scope: newScope(),
  record: newLogRecord(),
  client: undefined,
};
const compiled = compileCondition(CONDITION);
if (evalAll(logs, compiled, ctx) !== evalAll(logs, handWritten, ctx)) {
  throw new Error("the two tests disagree");
}

const hand = nsPerRecord(RECORDS, 60, () => evalAll(logs, handWritten, ctx));
const ottl = nsPerRecord(RECORDS, 60, () => evalAll(logs, compiled, ctx));
console.log(`condition: ${CONDITION}`);
console.log(`baseline  hand-written JavaScript test    ${hand.toFixed(1)} ns/record`);
console.log(
  `          compiled OTTL condition         ${ottl.toFixed(1)} ns/record (${
    (ottl / hand).toFixed(2)
  }x)`,
);

const { config } = parseWith(
  parseFilterConfig,
  { logs: { log_record: [CONDITION] } },
  "processors::filter",
);
const proc = new FilterProcessor(testSettings("filter"), config, capture());
const copies = Array.from({ length: 40 }, () => cloneLogs(logs));
const copyNs = nsPerRecord(RECORDS, 20, () => cloneLogs(logs));
let k = 0;
const filterNs = nsPerRecord(RECORDS, copies.length - 3, () => void proc.consume(copies[k++]!, {}));
console.log(`baseline  deep copy of the batch          ${copyNs.toFixed(1)} ns/record`);
console.log(`          filter processor consume        ${filterNs.toFixed(1)} ns/record`);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc !== undefined) {
  gc();
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < 125; i++) evalAll(logs, compiled, ctx); // ≈1M evaluations
  const grown = Deno.memoryUsage().heapUsed - before;
  console.log(
    `heap growth over ${125 * RECORDS} evaluations without a collection: ${
      (grown / 1024).toFixed(0)
    } KiB`,
  );
} else {
  console.log("(run with --v8-flags=--expose-gc for the allocation check)");
}
