/**
 * Property test: seeded random routing tables over seeded random batches deliver exactly what
 * a reference evaluation says, record by record: each record once to every pipeline of its
 * target set, no call mixing target sets, no object shared with a pipeline that changes data,
 * and a permanent refusal (with nothing delivered) where `propagate` meets an error.
 */

import assert from "node:assert/strict";
import type { ConsumeContext } from "../../core/consumer.ts";
import { isPermanent } from "../../core/consumer.ts";
import type { LogRecord, Logs } from "../../core/pdata/logs.ts";
import { newLogRecord, newResource, newScope, stringValue } from "../../core/pdata/logs.ts";
import { Prng } from "../../core/pdata/testing.ts";
import { connector, type Sink, sink } from "./_testing.ts";

/** A record as the reference sees it. */
interface Model {
  ns: string | number | undefined;
  level: string | undefined;
  severity: number;
  body: string;
  tenants: string[] | undefined;
}

type Verdict = boolean | "error";

interface PoolRoute {
  context: "resource" | "log" | "request";
  condition: string;
  ref: (m: Model) => Verdict;
}

const POOL: readonly PoolRoute[] = [
  { context: "resource", condition: 'attributes["ns"] == "a"', ref: (m) => m.ns === "a" },
  {
    context: "resource",
    condition: 'resource.attributes["ns"] != "b"',
    ref: (m) => m.ns !== "b",
  },
  {
    context: "resource",
    condition: 'Len(attributes["ns"]) > 1',
    ref: (m) => (typeof m.ns === "string" ? m.ns.length > 1 : "error"),
  },
  { context: "log", condition: 'attributes["level"] == "error"', ref: (m) => m.level === "error" },
  {
    context: "log",
    condition: "severity_number >= SEVERITY_NUMBER_WARN",
    ref: (m) => m.severity >= 13,
  },
  {
    context: "log",
    condition: 'resource.attributes["ns"] == "c" or IsMatch(body, "^x")',
    ref: (m) => m.ns === "c" || m.body.startsWith("x"),
  },
  {
    context: "log",
    condition: 'HasPrefix(attributes["level"], "w")',
    ref: (m) => (m.level === undefined ? "error" : m.level.startsWith("w")),
  },
  {
    context: "request",
    condition: 'request["X-Tenant"] == "t1"',
    ref: (m) => m.tenants?.includes("t1") ?? false,
  },
  {
    context: "request",
    condition: 'request["x-tenant"] != "t1"',
    ref: (m) => m.tenants?.some((t) => t !== "t1") ?? false,
  },
];

const PIPELINES = ["logs/p0", "logs/p1", "logs/p2", "logs/p3"];

function subset<T>(p: Prng, items: readonly T[], min: number): T[] {
  for (;;) {
    const out = items.filter(() => p.chance(0.4));
    if (out.length >= min) return out;
  }
}

function shuffle<T>(p: Prng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = p.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A random batch, with the model of each record keyed by the record object. */
function randomBatch(p: Prng, tenants: string[] | undefined) {
  const models = new Map<LogRecord, Model>();
  let n = 0;
  const logs: Logs = { resourceLogs: [] };
  for (let r = 1 + p.int(4); r > 0; r--) {
    const ns = p.pick<string | number | undefined>(["a", "b", "c", "ab", undefined, 7]);
    const resource = newResource(
      ns === undefined ? [] : [{
        key: "ns",
        value: typeof ns === "string" ? stringValue(ns) : { kind: "int", value: BigInt(ns) },
      }],
    );
    const scopeLogs = [];
    for (let s = 1 + p.int(2); s > 0; s--) {
      const logRecords: LogRecord[] = [];
      for (let k = p.int(5); k > 0; k--) {
        const level = p.pick([undefined, "error", "warn", "info"]);
        const body = `${p.pick(["x", "y"])}-${n++}`;
        const severity = p.pick([0, 9, 13, 17]);
        const record = newLogRecord({
          body: stringValue(body),
          severityNumber: severity,
          attributes: level === undefined ? [] : [{ key: "level", value: stringValue(level) }],
        });
        models.set(record, { ns, level, severity, body, tenants });
        logRecords.push(record);
      }
      scopeLogs.push({ scope: newScope("s"), schemaUrl: "", logRecords });
    }
    logs.resourceLogs.push({ resource, scopeLogs, schemaUrl: "" });
  }
  return { logs, models };
}

/** The reference: the target pipelines of a record, or "error" when evaluation fails. */
function expectedTargets(
  routes: { pool: PoolRoute; pipelines: string[] }[],
  defaults: string[],
  matchOnce: boolean,
  errorMode: string,
  m: Model,
): Set<string> | "error" {
  const targets = new Set<string>();
  for (const route of routes) {
    const verdict = route.pool.ref(m);
    if (verdict === "error" && errorMode === "propagate") return "error";
    if (verdict === true) {
      for (const p of route.pipelines) targets.add(p);
      if (matchOnce) break;
    }
  }
  return targets.size > 0 ? targets : new Set(defaults);
}

function allRecords(logs: Logs): LogRecord[] {
  return logs.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

Deno.test("property: random tables route random records exactly as the reference says", async () => {
  for (let seed = 1; seed <= 400; seed++) {
    const p = new Prng(seed);
    const routes = shuffle(p, POOL).slice(0, 1 + p.int(4)).map((pool) => ({
      pool,
      pipelines: subset(p, PIPELINES, 1),
    }));
    const defaults = subset(p, PIPELINES, 0);
    const matchOnce = p.chance(0.6);
    const errorMode = p.pick(["propagate", "ignore", "silent"]);
    const sinks: Record<string, Sink> = Object.fromEntries(
      PIPELINES.map((id) => [id, sink(p.chance(0.5))]),
    );
    const { connector: c } = connector({
      table: routes.map((r) => ({
        context: r.pool.context,
        condition: r.pool.condition,
        pipelines: r.pipelines,
      })),
      default_pipelines: defaults,
      match_once: matchOnce,
      error_mode: errorMode,
    }, sinks);
    const tenants = p.chance(0.3) ? undefined : subset(p, ["t1", "t2", "t3"], 1);
    const ctx: ConsumeContext = tenants === undefined
      ? {}
      : { client: { metadata: new Map([["x-tenant", tenants]]) } };
    const { logs, models } = randomBatch(p, tenants);
    const records = allRecords(logs);
    const expected = new Map(
      records.map((
        r,
      ) => [r, expectedTargets(routes, defaults, matchOnce, errorMode, models.get(r)!)]),
    );
    const where = `seed ${seed}`;

    let refused: unknown;
    await c.consume(logs, ctx).catch((err) => (refused = err));
    const calls = PIPELINES.flatMap((id) => sinks[id]!.calls.map((call) => ({ id, ...call })));
    if ([...expected.values()].includes("error")) {
      assert.ok(isPermanent(refused), `${where}: a permanent refusal`);
      assert.deepEqual(calls, [], `${where}: nothing delivered`);
      continue;
    }
    assert.equal(refused, undefined, where);

    // Each pipeline got exactly the records whose targets include it, each once.
    const bodyOf = (r: LogRecord) => (r.body?.kind === "string" ? r.body.value : "?");
    const byBody = new Map(records.map((r) => [bodyOf(r), r]));
    for (const id of PIPELINES) {
      const got = sinks[id]!.calls.flatMap((call) => allRecords(call.logs).map(bodyOf)).sort();
      const want = records.filter((r) => (expected.get(r) as Set<string>).has(id)).map(bodyOf)
        .sort();
      assert.deepEqual(got, want, `${where}: ${id}`);
    }
    // No call mixes records of different target sets; the context is passed on as it is.
    const key = (targets: Set<string>) => [...targets].sort().join(",");
    for (const call of calls) {
      assert.equal(call.ctx, ctx, where);
      const sets = new Set(
        allRecords(call.logs).map((r) => key(expected.get(byBody.get(bodyOf(r))!) as Set<string>)),
      );
      assert.equal(sets.size, 1, `${where}: call to ${call.id} mixes ${[...sets].join(" | ")}`);
    }
    // No record, resource or scope object is in two calls when one of them is to a pipeline
    // that changes data (not even two calls to the same one).
    const owners = new Map<object, string[]>();
    for (const call of calls) {
      for (const rl of call.logs.resourceLogs) {
        const objects = new Set<object>([rl.resource]);
        for (const sl of rl.scopeLogs) [sl.scope, ...sl.logRecords].forEach((o) => objects.add(o));
        for (const o of objects) owners.set(o, [...owners.get(o) ?? [], call.id]);
      }
    }
    for (const ids of owners.values()) {
      if (ids.length > 1) {
        assert.ok(
          ids.every((id) => !sinks[id]!.mutatesData),
          `${where}: an object shared by calls to ${ids.join(", ")}, one of which changes data`,
        );
      }
    }
  }
});
