/**
 * The demo's backend, run as its own process: an OTLP/HTTP logs endpoint on loopback that
 * decodes every request with the generated code (never the collector's own codec), counts
 * each generated line by its `id=<n>` (pod `floor(n / ID_STRIDE)`), checks every record's
 * resource attributes against what `pods.ts` says its pod must carry, and prints a summary
 * every second: records/s, per-namespace counts, the last enriched record's resource
 * attributes, lines written (from the generator's status file) vs arrived.
 *
 * Prints `sink <port>` on stdout once listening on a port it chose (`--port 0`). `GET /stats` answers {@linkcode SinkStats};
 * `POST /control/fail?status=503` answers every export with that status until
 * `POST /control/ok`; `POST /control/check` with the generator's `records` array answers
 * {@linkcode SinkCheck}. SIGINT/SIGTERM: exit 0.
 *
 * Run: deno run --allow-net --allow-read demo/sink.ts [--port 0] [--status FILE] [--quiet]
 *
 * @module
 */

import zlib from "node:zlib";
import type { KeyValue } from "../core/pdata/logs.ts";
import { decodeProtoIndependently, encodeStatus } from "../tests/fakes/otlp_sink.ts";
import { demoPods, expectedAttributes, ID_STRIDE } from "./pods.ts";

/** Counters of `GET /stats`. */
export interface SinkStats {
  requests: number;
  /** Requests answered with the injected failure status. */
  refused: number;
  records: number;
  /** Records carrying a generated line id. */
  tracked: number;
  unique: number;
  duplicates: number;
  /** For each duplicate, when (ms since the epoch) its first copy arrived; the first 10,000. */
  duplicateFirstSeen: number[];
  /** Tracked records whose resource lacked or contradicted an expected attribute. */
  notEnriched: number;
  /** Up to 5 examples: `<attribute>: got …, want …`. */
  enrichmentErrors: string[];
  /** Records without a line id (the agent's own logs), by service.name. */
  other: Record<string, number>;
  perNamespace: Record<string, number>;
  lastResource: Record<string, string>;
}

/** Answer of `POST /control/check`. */
export interface SinkCheck {
  missing: number;
  missingExamples: number[];
  /** Ids that arrived although the generator never wrote them. */
  unexpected: number;
}

function arg(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1]! : def;
}

const pods = demoPods();
const expected = pods.map(expectedAttributes);
/** Per pod: how often each sequence number arrived, and when it first did. */
const seen = pods.map(() => ({ count: new Uint8Array(1024), first: new Float64Array(1024) }));
const stats: SinkStats = {
  requests: 0,
  refused: 0,
  records: 0,
  tracked: 0,
  unique: 0,
  duplicates: 0,
  duplicateFirstSeen: [],
  notEnriched: 0,
  enrichmentErrors: [],
  other: {},
  perNamespace: {},
  lastResource: {},
};
let failStatus = 0;

function grow(p: number, seq: number): void {
  const s = seen[p]!;
  if (seq < s.count.length) return;
  let n = s.count.length;
  while (n <= seq) n *= 2;
  const count = new Uint8Array(n);
  count.set(s.count);
  const first = new Float64Array(n);
  first.set(s.first);
  seen[p] = { count, first };
}

function flatten(attrs: readonly KeyValue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of attrs) {
    out[key] = value.kind === "string"
      ? value.value
      : value.kind === "int" || value.kind === "bool" || value.kind === "double"
      ? String(value.value)
      : `(${value.kind})`;
  }
  return out;
}

function checkEnrichment(pod: number, attrs: Record<string, string>, n: number): void {
  let ok = true;
  for (const [k, want] of Object.entries(expected[pod]!)) {
    if (attrs[k] === want) continue;
    ok = false;
    if (stats.enrichmentErrors.length < 5) {
      stats.enrichmentErrors.push(
        `${k}: got ${JSON.stringify(attrs[k])}, want ${JSON.stringify(want)}`,
      );
    }
  }
  if (!ok) stats.notEnriched += n;
}

function take(body: Uint8Array): void {
  const logs = decodeProtoIndependently(body);
  const now = Date.now();
  for (const rl of logs.resourceLogs) {
    const attrs = flatten(rl.resource.attributes);
    let podOfResource = -1;
    let tracked = 0;
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        stats.records++;
        const text = r.body?.kind === "string" ? r.body.value : "";
        const m = /^id=(\d+) /.exec(text);
        if (m === null) {
          const name = attrs["service.name"] ?? "unknown";
          stats.other[name] = (stats.other[name] ?? 0) + 1;
          continue;
        }
        const id = Number(m[1]);
        const pod = Math.floor(id / ID_STRIDE);
        const seq = id % ID_STRIDE;
        if (pod >= pods.length) continue;
        podOfResource = pod;
        tracked++;
        grow(pod, seq);
        const s = seen[pod]!;
        if (s.count[seq] === 0) {
          stats.unique++;
          s.first[seq] = now;
        } else {
          stats.duplicates++;
          if (stats.duplicateFirstSeen.length < 10_000) {
            stats.duplicateFirstSeen.push(s.first[seq]!);
          }
        }
        if (s.count[seq]! < 255) s.count[seq]!++;
      }
    }
    if (tracked === 0) continue;
    stats.tracked += tracked;
    const ns = attrs["k8s.namespace.name"] ?? "(none)";
    stats.perNamespace[ns] = (stats.perNamespace[ns] ?? 0) + tracked;
    checkEnrichment(podOfResource, attrs, tracked);
    stats.lastResource = attrs;
  }
}

function check(records: number[]): SinkCheck {
  const out: SinkCheck = { missing: 0, missingExamples: [], unexpected: 0 };
  for (const [p, s] of seen.entries()) {
    const written = records[p] ?? 0;
    for (let seq = 0; seq < s.count.length; seq++) {
      if (seq < written && s.count[seq] === 0) {
        out.missing++;
        if (out.missingExamples.length < 10) out.missingExamples.push(p * ID_STRIDE + seq);
      } else if (seq >= written && s.count[seq] !== 0) out.unexpected++;
    }
    for (let seq = s.count.length; seq < written; seq++) {
      out.missing++;
      if (out.missingExamples.length < 10) out.missingExamples.push(p * ID_STRIDE + seq);
    }
  }
  return out;
}

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (req.method === "GET" && url.pathname === "/stats") return Response.json(stats);
  if (req.method === "POST" && url.pathname === "/control/fail") {
    failStatus = Number(url.searchParams.get("status") ?? "503");
    return new Response("ok\n");
  }
  if (req.method === "POST" && url.pathname === "/control/ok") {
    failStatus = 0;
    return new Response("ok\n");
  }
  if (req.method === "POST" && url.pathname === "/control/check") {
    return Response.json(check((await req.json()).records ?? []));
  }
  if (req.method !== "POST" || url.pathname !== "/v1/logs") {
    return new Response("not found\n", { status: 404 });
  }
  const raw = new Uint8Array(await req.arrayBuffer());
  stats.requests++;
  if (failStatus !== 0) {
    stats.refused++;
    return new Response(
      encodeStatus(14, "the demo sink refuses for a while") as Uint8Array<ArrayBuffer>,
      {
        status: failStatus,
        headers: { "content-type": "application/x-protobuf" },
      },
    );
  }
  const enc = req.headers.get("content-encoding");
  try {
    const body = enc === "gzip"
      ? zlib.gunzipSync(raw)
      : enc === "zstd"
      ? zlib.zstdDecompressSync(raw)
      : raw;
    take(body);
  } catch (err) {
    return new Response(encodeStatus(3, String(err)) as Uint8Array<ArrayBuffer>, { status: 400 });
  }
  return new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
}

const fmt = (n: number) => n.toLocaleString("en-US");
const SHOWN = [
  "k8s.namespace.name",
  "k8s.pod.name",
  "k8s.container.name",
  "k8s.deployment.name",
  "k8s.statefulset.name",
  "service.name",
  "service.version",
  "container.image.name",
  "container.image.tag",
  "k8s.node.name",
  "k8s.cluster.uid",
];

async function summary(statusFile: string, previous: number): Promise<void> {
  let written = 0;
  try {
    written = (JSON.parse(await Deno.readTextFile(statusFile)).records as number[])
      .reduce((a, b) => a + b, 0);
  } catch { /* not written yet */ }
  if (written === 0 && stats.records === 0) return;
  const time = new Date().toISOString().slice(11, 19);
  const pct = written === 0 ? "" : ` (${(stats.unique / written * 100).toFixed(1)} %)`;
  const lines = [
    `[${time}] ${fmt(stats.tracked - previous)} records/s · lines written ${fmt(written)}, ` +
    `arrived ${fmt(stats.unique)}${pct} · duplicates ${fmt(stats.duplicates)} · ` +
    `not enriched ${fmt(stats.notEnriched)}${failStatus ? ` · answering ${failStatus}` : ""}`,
  ];
  const perNamespace = Object.entries(stats.perNamespace).sort();
  if (perNamespace.length > 0) {
    lines.push(`  per namespace: ${perNamespace.map(([k, v]) => `${k} ${fmt(v)}`).join(" · ")}`);
  }
  const last = stats.lastResource;
  let line = "  last record's resource:";
  for (const k of SHOWN.filter((k) => k in last)) {
    const item = ` ${k}=${last[k]}`;
    if (line.length + item.length > 100) {
      lines.push(line);
      line = "   ";
    }
    line += item;
  }
  if (Object.keys(last).length > 0) lines.push(line);
  console.log(lines.join("\n"));
}

const quiet = Deno.args.includes("--quiet");
const statusFile = arg("status", "");
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(arg("port", "0")),
  onListen: ({ port }) => {
    if (arg("port", "0") === "0") console.log(`sink ${port}`);
  },
}, handle);
let previous = 0;
const timer = setInterval(() => {
  if (!quiet) summary(statusFile, previous).catch(() => {});
  previous = stats.tracked;
}, 1000);
const shutdown = async () => {
  clearInterval(timer);
  await server.shutdown();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
await server.finished;
