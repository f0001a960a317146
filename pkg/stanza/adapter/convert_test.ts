import assert from "node:assert/strict";
import { encodedPieces } from "../../../core/pdata/encoded_logs.ts";
import type { LogRecord, Logs } from "../../../core/pdata/logs.ts";
import { encodeLogsRequest } from "../../../core/pdata/otlp_proto.ts";
import { type Entry, newEntry, type Value, type ValueMap } from "../entry.ts";
import { LogsBuilder, toKeyValues, toLogRecord } from "./convert.ts";

/** A small seeded generator (xorshift). */
function rng(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const RESOURCES: ValueMap[] = [
  { "k8s.pod.name": "api-7d9f", "k8s.namespace.name": "prod", "k8s.container.restart_count": 0 },
  { "k8s.pod.name": "web-1", "k8s.namespace.name": "dev" },
  {},
  { "host.name": "node-ü", nested: { list: [1n, "x", null, true] } },
];

function value(r: () => number, depth = 0): Value {
  const pick = Math.floor(r() * (depth > 1 ? 6 : 9));
  switch (pick) {
    case 0:
      return "x".repeat(Math.floor(r() * 3000)) + "é✓😀"; // past a chunk's room now and then
    case 1:
      return r() * 1e6 - 5e5;
    case 2:
      return BigInt(Math.floor(r() * 1e12)) * (r() < 0.5 ? -1n : 1n);
    case 3:
      return r() < 0.5;
    case 4:
      return null;
    case 5:
      return new Uint8Array([1, 2, 250, Math.floor(r() * 256)]);
    case 6:
      return [value(r, depth + 1), value(r, depth + 1)];
    default:
      return { a: value(r, depth + 1), "b.c": value(r, depth + 1) };
  }
}

function entries(seed: number, n: number): { entry: Entry; resource: number }[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const resource = Math.floor(r() * RESOURCES.length);
    const e = newEntry(r() < 0.1 ? undefined : value(r), BigInt(Math.floor(r() * 1e15)) * 1000n);
    // Shared resource objects and equal copies must land in the same ResourceLogs.
    e.resourceShared = r() < 0.5;
    e.resource = e.resourceShared ? RESOURCES[resource]! : structuredClone(RESOURCES[resource]!);
    e.attributes = { "log.iostream": r() < 0.5 ? "stdout" : "stderr", extra: value(r, 1) };
    e.timestamp = r() < 0.2 ? 0n : 1_764_000_000_000_000_000n + BigInt(Math.floor(r() * 1e9));
    e.severity = Math.floor(r() * 25);
    e.severityText = r() < 0.5 ? "" : "INFO";
    if (r() < 0.05) e.severity = -3; // negative: a ten-byte varint
    if (r() < 0.05) e.attributes[""] = "an empty key";
    if (r() < 0.3) e.traceId = new Uint8Array(16).fill(7);
    if (r() < 0.3) e.spanId = new Uint8Array(8).fill(9);
    if (r() < 0.3) e.traceFlags = 1;
    return { entry: e, resource };
  });
}

/** The batch as objects: one ResourceLogs per resource in order of first use. */
function expected(list: { entry: Entry; resource: number }[]): Logs {
  const byResource = new Map<number, LogRecord[]>();
  for (const { entry, resource } of list) {
    if (!byResource.has(resource)) byResource.set(resource, []);
    byResource.get(resource)!.push(toLogRecord(entry));
  }
  return {
    resourceLogs: [...byResource].map(([resource, logRecords]) => ({
      resource: { attributes: toKeyValues(RESOURCES[resource]!), droppedAttributesCount: 0 },
      scopeLogs: [{
        scope: { name: "", version: "", attributes: [], droppedAttributesCount: 0 },
        logRecords,
        schemaUrl: "",
      }],
      schemaUrl: "",
    })),
  };
}

Deno.test("LogsBuilder: records encoded as they arrive give the bytes of the batch encoded whole", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const list = entries(seed, 1 + (seed * 37) % 300);
    const b = new LogsBuilder(true);
    for (const { entry } of list) b.add(entry);
    assert.equal(b.count, list.length);
    const batch = b.take();
    assert.ok(encodedPieces(batch) !== undefined, "handed on encoded");
    assert.equal(b.count, 0);
    const want = expected(list);
    assert.deepEqual(encodeLogsRequest(batch), encodeLogsRequest(want), `seed ${seed}`);
    assert.deepEqual(batch.resourceLogs, want.resourceLogs, `seed ${seed}`);
  }
});

Deno.test("LogsBuilder: for a pipeline that changes records, the same batch as objects", () => {
  for (let seed = 1; seed <= 10; seed++) {
    const list = entries(seed, 50);
    const b = new LogsBuilder(false);
    for (const { entry } of list) b.add(entry);
    const batch = b.take();
    assert.equal(encodedPieces(batch), undefined);
    assert.deepEqual(batch, expected(list));
    // Every resource has a scope of its own (a processor may change one).
    const scopes = batch.resourceLogs.map((rl) => rl.scopeLogs[0]!.scope);
    assert.equal(new Set(scopes).size, scopes.length);
  }
});

Deno.test("LogsBuilder: an empty batch is an empty request", () => {
  for (const encode of [true, false]) {
    const batch = new LogsBuilder(encode).take();
    assert.deepEqual(batch.resourceLogs, []);
    assert.equal(encodeLogsRequest(batch).length, 0);
  }
});
