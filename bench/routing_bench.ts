/**
 * What the routing connector costs per record: splitting a batch of mixed namespaces across
 * three tenant pipelines and a default (resource context), splitting by a record attribute
 * (log context), and a batch that goes wholly to one route (handed on as it is). Baselines
 * from the same run: one compiled condition evaluated per record, and the deep copy of the
 * batch (what a router that copied each part would pay at least).
 *
 * Run: deno run --allow-all bench/routing_bench.ts
 *
 * @module
 */

import { routingFactory } from "../connectors/routing/mod.ts";
import type { ConsumeContext, LogsConsumer } from "../core/consumer.ts";
import {
  cloneLogs,
  type Logs,
  newLogRecord,
  newResource,
  newScope,
  stringValue,
} from "../core/pdata/logs.ts";
import { namespacedLogs, Prng } from "../core/pdata/testing.ts";
import { compileCondition, type EvalContext } from "../pkg/ottl/mod.ts";
import { parseWith, testSettings } from "../tests/fakes/component_harness.ts";

const RECORDS = 8192;
const PER_RESOURCE = 256;

function batch(namespaces: readonly string[]): Logs {
  const p = new Prng(1);
  return namespacedLogs(p, {
    records: RECORDS,
    perResource: PER_RESOURCE,
    namespaces,
    record: () =>
      newLogRecord({
        body: stringValue("payment accepted id=42"),
        attributes: [{ key: "level", value: stringValue(p.pick(["info", "error"])) }],
      }),
  });
}

const nullConsumer: LogsConsumer = { mutatesData: false, consume: () => Promise.resolve() };
const PIPELINES = ["logs/a", "logs/b", "logs/c", "logs/default"];

function router(table: unknown[]): LogsConsumer {
  const { config, issues } = parseWith(
    routingFactory.parseConfig,
    { default_pipelines: ["logs/default"], table },
    "connectors::routing",
  );
  if (issues.length > 0) throw new Error(JSON.stringify(issues));
  return routingFactory.create(
    testSettings("routing", "connector"),
    config,
    new Map(PIPELINES.map((id) => [id, nullConsumer])),
  );
}

const byNamespace = router(["a", "b", "c"].map((x) => ({
  condition: `attributes["k8s.namespace.name"] == "ns-${x}"`,
  pipelines: [`logs/${x}`],
})));
const byLevel = router([{
  context: "log",
  condition: 'attributes["level"] == "error"',
  pipelines: ["logs/a"],
}]);

async function nsPerRecord(rounds: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await fn(); // warm up
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await fn();
  return ((performance.now() - t0) * 1e6) / (RECORDS * rounds);
}

const mixed = batch(["ns-a", "ns-b", "ns-c", "ns-d"]);
const single = batch(["ns-a"]);
const ctx: ConsumeContext = {};
const evalCtx: EvalContext = {
  resource: newResource(),
  scope: newScope(),
  record: newLogRecord(),
  client: undefined,
};
const condition = compileCondition('attributes["level"] == "error"');
const evalAll = (logs: Logs): number => {
  let n = 0;
  for (const rl of logs.resourceLogs) {
    evalCtx.resource = rl.resource;
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        evalCtx.record = r;
        if (condition(evalCtx)) n++;
      }
    }
  }
  return n;
};

const rows: [string, number][] = [
  ["baseline  one compiled condition per record", await nsPerRecord(200, () => evalAll(mixed))],
  ["baseline  deep copy of the batch", await nsPerRecord(40, () => cloneLogs(mixed))],
  [
    "          resource routes, 4 namespaces → 3 tenants + default",
    await nsPerRecord(200, () => byNamespace.consume(mixed, ctx)),
  ],
  [
    "          log route (attribute), records split in two",
    await nsPerRecord(200, () => byLevel.consume(mixed, ctx)),
  ],
  [
    "          whole batch to one route (handed on as is)",
    await nsPerRecord(200, () => byNamespace.consume(single, ctx)),
  ],
];
console.log(`${RECORDS} records, ${RECORDS / PER_RESOURCE} resources of ${PER_RESOURCE}`);
for (const [name, ns] of rows) console.log(`${name.padEnd(64)} ${ns.toFixed(1)} ns/record`);
