/**
 * Test helpers for code that handles logs: seeded random batches covering every OTLP field,
 * realistic container-log batches, and converters to and from the generated @bufbuild
 * messages (the independent reference implementation of the wire format).
 *
 * @module
 */

import { create } from "@bufbuild/protobuf";
import {
  type ExportLogsServiceRequest,
  ExportLogsServiceRequestSchema,
} from "./gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.ts";
import type {
  AnyValue as GenAnyValue,
  AnyValueSchema,
  KeyValue as GenKeyValue,
} from "./gen/opentelemetry/proto/common/v1/common_pb.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type AnyValue,
  type KeyValue,
  type LogRecord,
  type Logs,
  newResource,
  newScope,
  type ResourceLogs,
  type ScopeLogs,
  stringValue,
} from "./logs.ts";

/**
 * The vendored OTLP `.proto` files (upstream's tag is in their README): the include path for
 * `protoc --decode`/`--encode`, the independent check of the wire format.
 */
export const OTLP_PROTO_DIR: string =
  new URL("../../third_party/opentelemetry-proto", import.meta.url).pathname;

/** A small, fast, seeded PRNG (mulberry32) so failures reproduce from the seed. */
export class Prng {
  #state: number;

  /** Starts the sequence at `seed`. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Returns a uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Returns an integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** Returns true with probability `p`. */
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  /** Returns one element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Returns `n` random bytes. */
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }

  /** Returns a random unsigned 64-bit integer. */
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

/** Limits for `randomLogs`. */
export interface RandomLogsOptions {
  /** Most ResourceLogs per batch (at least 0 are made). @default 3 */
  maxResources?: number;
  /** Most ScopeLogs per ResourceLogs. @default 3 */
  maxScopes?: number;
  /** Most LogRecords per ScopeLogs. @default 6 */
  maxRecords?: number;
  /** Most attributes per attribute list. @default 5 */
  maxAttributes?: number;
  /** Deepest AnyValue nesting generated. @default 4 */
  maxDepth?: number;
}

const SPECIAL_STRINGS = [
  "",
  "a",
  "k8s.pod.name",
  "héllo wörld",
  "日本語のログ",
  "emoji 😀 and 𝄞 (astral plane)",
  'quote " backslash \\ slash / tab \t newline \n',
  "nul \u0000 and controls \u0001\u001f\u007f",
  "\ufeffleading BOM",
  "line separator \u2028 and \u2029",
  "</script><!--",
];

const INT64_EDGES = [
  0n,
  1n,
  -1n,
  127n,
  128n,
  2147483647n,
  -2147483648n,
  4294967296n,
  9007199254740993n,
  9223372036854775807n,
  -9223372036854775808n,
];

const DOUBLE_EDGES = [
  0,
  -0,
  1.5,
  -2.25,
  NaN,
  Infinity,
  -Infinity,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  1e21,
  0.1,
];

function randomString(rng: Prng): string {
  if (rng.chance(0.5)) return rng.pick(SPECIAL_STRINGS);
  const n = rng.int(40);
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rng.int(100);
    if (r < 80) s += String.fromCharCode(0x20 + rng.int(95));
    else if (r < 90) s += String.fromCharCode(0xa0 + rng.int(0x700));
    else if (r < 96) s += String.fromCharCode(0x3000 + rng.int(0x5000));
    else s += String.fromCodePoint(0x10000 + rng.int(0xfffff - 0x10000));
  }
  return s;
}

function randomInt64(rng: Prng): bigint {
  if (rng.chance(0.4)) return rng.pick(INT64_EDGES);
  return BigInt.asIntN(64, rng.u64() >> BigInt(rng.int(64)));
}

function randomDouble(rng: Prng): number {
  if (rng.chance(0.5)) return rng.pick(DOUBLE_EDGES);
  return (rng.u32() - 0x80000000) / (1 + rng.int(1000)) * 10 ** (rng.int(40) - 20);
}

function randomValue(rng: Prng, o: Required<RandomLogsOptions>, depth: number): AnyValue {
  const nested = depth < o.maxDepth;
  switch (rng.int(nested ? 9 : 7)) {
    case 0:
    case 1:
      return { kind: "string", value: randomString(rng) };
    case 2:
      return { kind: "bool", value: rng.chance(0.5) };
    case 3:
      return { kind: "int", value: randomInt64(rng) };
    case 4:
      return { kind: "double", value: randomDouble(rng) };
    case 5:
      return { kind: "bytes", value: rng.bytes(rng.int(24)) };
    case 6:
      return { kind: "empty" };
    case 7: {
      const n = rng.int(4);
      const value: AnyValue[] = [];
      for (let i = 0; i < n; i++) value.push(randomValue(rng, o, depth + 1));
      return { kind: "array", value };
    }
    default:
      return { kind: "kvlist", value: randomAttributes(rng, o, depth + 1) };
  }
}

function randomAttributes(rng: Prng, o: Required<RandomLogsOptions>, depth: number): KeyValue[] {
  const n = rng.int(o.maxAttributes + 1);
  const attrs: KeyValue[] = [];
  for (let i = 0; i < n; i++) {
    // Repeated keys are legal on the wire and must survive a round trip.
    const key = i > 0 && rng.chance(0.1) ? attrs[0].key : randomString(rng);
    attrs.push({ key, value: randomValue(rng, o, depth) });
  }
  return attrs;
}

function randomU32(rng: Prng): number {
  return rng.chance(0.5) ? 0 : rng.chance(0.5) ? rng.int(200) : rng.u32();
}

function randomTimestamp(rng: Prng): bigint {
  const r = rng.int(5);
  if (r === 0) return 0n;
  if (r === 1) return 0xffffffffffffffffn;
  return r === 2 ? rng.u64() : 1_700_000_000_000_000_000n + BigInt(rng.u32()) * 1000n;
}

function randomRecord(rng: Prng, o: Required<RandomLogsOptions>): LogRecord {
  return {
    timeUnixNano: randomTimestamp(rng),
    observedTimeUnixNano: randomTimestamp(rng),
    severityNumber: rng.chance(0.9) ? rng.int(25) : (rng.u32() | 0),
    severityText: rng.chance(0.5) ? "" : rng.pick(["INFO", "WARN", "ERROR", "debug", "Fatal"]),
    body: rng.chance(0.15) ? undefined : randomValue(rng, o, 1),
    attributes: randomAttributes(rng, o, 1),
    droppedAttributesCount: randomU32(rng),
    flags: randomU32(rng),
    traceId: rng.chance(0.4) ? new Uint8Array(0) : rng.bytes(16),
    spanId: rng.chance(0.4) ? new Uint8Array(0) : rng.bytes(8),
    eventName: rng.chance(0.7) ? "" : randomString(rng),
  };
}

/** Returns a random batch exercising every field, reproducible from `seed`. */
export function randomLogs(seed: number, options: RandomLogsOptions = {}): Logs {
  const o: Required<RandomLogsOptions> = {
    maxResources: 3,
    maxScopes: 3,
    maxRecords: 6,
    maxAttributes: 5,
    maxDepth: 4,
    ...options,
  };
  const rng = new Prng(seed);
  const resourceLogs: ResourceLogs[] = [];
  const nr = rng.chance(0.05) ? 0 : 1 + rng.int(o.maxResources);
  for (let i = 0; i < nr; i++) {
    const scopeLogs: ScopeLogs[] = [];
    const ns = rng.int(o.maxScopes + 1);
    for (let j = 0; j < ns; j++) {
      const logRecords: LogRecord[] = [];
      const nl = rng.int(o.maxRecords + 1);
      for (let k = 0; k < nl; k++) logRecords.push(randomRecord(rng, o));
      scopeLogs.push({
        scope: {
          name: rng.chance(0.5) ? "" : randomString(rng),
          version: rng.chance(0.5) ? "" : "1.2.3",
          attributes: randomAttributes(rng, o, 1),
          droppedAttributesCount: randomU32(rng),
        },
        logRecords,
        schemaUrl: rng.chance(0.5) ? "" : "https://opentelemetry.io/schemas/1.26.0",
      });
    }
    resourceLogs.push({
      resource: { attributes: randomAttributes(rng, o, 1), droppedAttributesCount: randomU32(rng) },
      scopeLogs,
      schemaUrl: rng.chance(0.5) ? "" : randomString(rng),
    });
  }
  return { resourceLogs };
}

const APPS = ["checkout", "payments", "frontend", "cart", "inventory", "auth"];
const PATHS = ["/api/v1/orders", "/healthz", "/api/v1/cart/items", "/login", "/metrics"];

function str(value: string): AnyValue {
  return { kind: "string", value };
}

/**
 * Returns `records` records in resources of `perResource`, each resource with a
 * `k8s.namespace.name` picked from `namespaces` and its own `k8s.pod.name`: batches for
 * benchmarks of per-namespace filtering and routing. `record` makes each log record.
 */
export function namespacedLogs(
  rng: Prng,
  options: {
    records: number;
    perResource: number;
    namespaces: readonly string[];
    record: () => LogRecord;
  },
): Logs {
  const logs: Logs = { resourceLogs: [] };
  for (let i = 0; i < options.records; i += options.perResource) {
    logs.resourceLogs.push({
      schemaUrl: "",
      resource: newResource([
        { key: "k8s.namespace.name", value: stringValue(rng.pick(options.namespaces)) },
        { key: "k8s.pod.name", value: stringValue(`pod-${i}`) },
      ]),
      scopeLogs: [{
        schemaUrl: "",
        scope: newScope(),
        logRecords: Array.from({ length: options.perResource }, options.record),
      }],
    });
  }
  return logs;
}

/**
 * Returns `n` realistic container log records (~200 B each encoded) as a node agent produces
 * them: spread over 4 pods (ResourceLogs with k8s attributes), CRI-style message bodies, the
 * `log.iostream` and `logtag` attributes, time and observed time.
 */
export function sampleLogs(n: number): Logs {
  const rng = new Prng(42);
  const pods = Math.min(4, Math.max(1, n));
  const resourceLogs: ResourceLogs[] = [];
  const base = 1_714_564_800_000_000_000n;
  for (let p = 0; p < pods; p++) {
    const app = APPS[p % APPS.length];
    const pod = `${app}-7d9f8c6b5-${(0x10000 + rng.int(0xeffff)).toString(36)}`;
    const uid = [8, 4, 4, 4, 12].map((k) => {
      let s = "";
      for (let i = 0; i < k; i++) s += (rng.int(16)).toString(16);
      return s;
    }).join("-");
    const logRecords: LogRecord[] = [];
    const count = Math.floor(n / pods) + (p < n % pods ? 1 : 0);
    for (let i = 0; i < count; i++) {
      const t = base + BigInt(i) * 1_000_123n + BigInt(p);
      const level = rng.pick(["INFO", "INFO", "INFO", "WARN", "DEBUG", "ERROR"]);
      const body = `${new Date(Number(t / 1_000_000n)).toISOString()} ${level} [worker-${
        rng.int(16)
      }] ${app}.http: ${rng.pick(["GET", "POST", "PUT"])} ${rng.pick(PATHS)} status=${
        rng.pick([200, 200, 201, 404, 500])
      } duration_ms=${rng.int(900)} bytes=${rng.int(100000)} client=10.0.${rng.int(256)}.${
        rng.int(256)
      } trace=${rng.u32().toString(16)}`;
      logRecords.push({
        timeUnixNano: t,
        observedTimeUnixNano: t + 1_500_000n,
        severityNumber: 0,
        severityText: "",
        body: str(body),
        attributes: [
          { key: "log.iostream", value: str(rng.chance(0.9) ? "stdout" : "stderr") },
          { key: "logtag", value: str("F") },
        ],
        droppedAttributesCount: 0,
        flags: 0,
        traceId: new Uint8Array(0),
        spanId: new Uint8Array(0),
        eventName: "",
      });
    }
    resourceLogs.push({
      resource: {
        attributes: [
          { key: "k8s.namespace.name", value: str("shop") },
          { key: "k8s.pod.name", value: str(pod) },
          { key: "k8s.pod.uid", value: str(uid) },
          { key: "k8s.container.name", value: str(app) },
          { key: "k8s.container.restart_count", value: str("0") },
          { key: "k8s.node.name", value: str("node-a-3") },
        ],
        droppedAttributesCount: 0,
      },
      scopeLogs: [{
        scope: { name: "", version: "", attributes: [], droppedAttributesCount: 0 },
        logRecords,
        schemaUrl: "",
      }],
      schemaUrl: "",
    });
  }
  return { resourceLogs };
}

type AnyValueInit = MessageInitShape<typeof AnyValueSchema>;

function valueInit(v: AnyValue): AnyValueInit {
  switch (v.kind) {
    case "string":
      return { value: { case: "stringValue", value: v.value } };
    case "bool":
      return { value: { case: "boolValue", value: v.value } };
    case "int":
      return { value: { case: "intValue", value: v.value } };
    case "double":
      return { value: { case: "doubleValue", value: v.value } };
    case "bytes":
      return { value: { case: "bytesValue", value: v.value } };
    case "array":
      return { value: { case: "arrayValue", value: { values: v.value.map(valueInit) } } };
    case "kvlist":
      return { value: { case: "kvlistValue", value: { values: v.value.map(kvInit) } } };
    case "empty":
      return {};
  }
}

function kvInit(kv: KeyValue): { key: string; value: AnyValueInit } {
  return { key: kv.key, value: valueInit(kv.value) };
}

/**
 * Converts a batch to the generated ExportLogsServiceRequest message. Resource, scope and
 * attribute values are always set, so `toBinary` yields the same bytes as `encodeLogsRequest`.
 */
export function toGenerated(logs: Logs): ExportLogsServiceRequest {
  return create(ExportLogsServiceRequestSchema, {
    resourceLogs: logs.resourceLogs.map((rl) => ({
      resource: {
        attributes: rl.resource.attributes.map(kvInit),
        droppedAttributesCount: rl.resource.droppedAttributesCount,
      },
      scopeLogs: rl.scopeLogs.map((sl) => ({
        scope: {
          name: sl.scope.name,
          version: sl.scope.version,
          attributes: sl.scope.attributes.map(kvInit),
          droppedAttributesCount: sl.scope.droppedAttributesCount,
        },
        logRecords: sl.logRecords.map((r) => ({
          timeUnixNano: r.timeUnixNano,
          observedTimeUnixNano: r.observedTimeUnixNano,
          severityNumber: r.severityNumber,
          severityText: r.severityText,
          body: r.body === undefined ? undefined : valueInit(r.body),
          attributes: r.attributes.map(kvInit),
          droppedAttributesCount: r.droppedAttributesCount,
          flags: r.flags,
          traceId: r.traceId,
          spanId: r.spanId,
          eventName: r.eventName,
        })),
        schemaUrl: sl.schemaUrl,
      })),
      schemaUrl: rl.schemaUrl,
    })),
  });
}

function fromValue(v: GenAnyValue | undefined): AnyValue {
  const u = v?.value;
  switch (u?.case) {
    case "stringValue":
      return { kind: "string", value: u.value };
    case "boolValue":
      return { kind: "bool", value: u.value };
    case "intValue":
      return { kind: "int", value: u.value };
    case "doubleValue":
      return { kind: "double", value: u.value };
    case "bytesValue":
      return { kind: "bytes", value: u.value };
    case "arrayValue":
      return { kind: "array", value: u.value.values.map(fromValue) };
    case "kvlistValue":
      return { kind: "kvlist", value: u.value.values.map(fromKv) };
    default:
      // Unset, or the profiles-only string_value_strindex, which this model has no place for.
      return { kind: "empty" };
  }
}

function fromKv(kv: GenKeyValue): KeyValue {
  return { key: kv.key, value: fromValue(kv.value) };
}

/** Converts a generated ExportLogsServiceRequest message to a batch. */
export function fromGenerated(msg: ExportLogsServiceRequest): Logs {
  return {
    resourceLogs: msg.resourceLogs.map((rl) => ({
      resource: {
        attributes: (rl.resource?.attributes ?? []).map(fromKv),
        droppedAttributesCount: rl.resource?.droppedAttributesCount ?? 0,
      },
      scopeLogs: rl.scopeLogs.map((sl) => ({
        scope: {
          name: sl.scope?.name ?? "",
          version: sl.scope?.version ?? "",
          attributes: (sl.scope?.attributes ?? []).map(fromKv),
          droppedAttributesCount: sl.scope?.droppedAttributesCount ?? 0,
        },
        logRecords: sl.logRecords.map((r) => ({
          timeUnixNano: r.timeUnixNano,
          observedTimeUnixNano: r.observedTimeUnixNano,
          severityNumber: r.severityNumber,
          severityText: r.severityText,
          body: r.body === undefined ? undefined : fromValue(r.body),
          attributes: r.attributes.map(fromKv),
          droppedAttributesCount: r.droppedAttributesCount,
          flags: r.flags,
          traceId: r.traceId,
          spanId: r.spanId,
          eventName: r.eventName,
        })),
        schemaUrl: sl.schemaUrl,
      })),
      schemaUrl: rl.schemaUrl,
    })),
  };
}
