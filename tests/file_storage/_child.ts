/**
 * A small program the `tests/file_storage` tests run as a separate process (to kill it,
 * to hold a lock, to run as another user or under a file-size limit). It prints one line
 * per event on stdout so the parent can follow it:
 *
 *   deno run -A --no-lock tests/file_storage/_child.ts <mode> '<json config>'
 *
 * Modes: `batches` (endless atomic batches, `ack <n>` after each), `hold` (open, write,
 * `ready`, then wait), `probe` (start, read and write one key, print a JSON report),
 * `fill` (write until the disk refuses, print the error and check earlier data).
 *
 * @module
 */

import { ComponentId } from "../../core/component.ts";
import type { StorageClient } from "../../core/storage.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { fromPlain } from "../../core/config/node.ts";
import {
  type FileStorageExtension,
  fileStorageFactory,
} from "../../extensions/file_storage/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function out(line: string): void {
  const bytes = enc.encode(line + "\n");
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

async function openClient(plain: Record<string, unknown>): Promise<StorageClient> {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "extensions::file_storage", issues);
  const config = fileStorageFactory.parseConfig(r);
  r.done();
  if (issues.errors.length > 0) throw new Error(issues.errors.map((i) => i.message).join("; "));
  const ext = fileStorageFactory.create({
    id: new ComponentId("file_storage"),
    kind: "extension",
    logger: createLogger({ level: "warn", sink: (l) => console.error(l) }),
    metrics: new MetricsRegistry(),
    componentLabels: {},
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  }, config) as FileStorageExtension;
  await ext.start({ getExtension: () => undefined, reportFatalError: (e) => console.error(e) });
  return await ext.getClient("receiver", new ComponentId("filelog"));
}

function num(v: Uint8Array | undefined): number {
  return v === undefined ? 0 : Number(dec.decode(v));
}

/** Endless batches; each one sets n, a, b, c and h<i>, and moves d<i-1> to d<i>. */
async function batches(client: StorageClient): Promise<never> {
  let i = num(await client.get("n"));
  out(`ready ${i}`);
  for (;;) {
    i++;
    const v = enc.encode(String(i));
    await client.batch([
      { type: "set", key: "n", value: v },
      { type: "set", key: "a", value: v },
      { type: "set", key: "b", value: v },
      { type: "delete", key: `d${i - 1}` },
      { type: "set", key: `d${i}`, value: v },
      { type: "set", key: `h${i}`, value: v },
      { type: "set", key: "c", value: v },
    ]);
    out(`ack ${i}`);
  }
}

async function hold(client: StorageClient): Promise<void> {
  await client.set("held", enc.encode(String(Deno.pid)));
  out("ready");
  // A pending timer keeps the process (and its lock) alive until it is killed.
  await new Promise(() => setInterval(() => {}, 60_000));
}

function capEff(): string {
  const status = Deno.readTextFileSync("/proc/self/status");
  return /^CapEff:\s*(\S+)/m.exec(status)?.[1] ?? "unknown";
}

async function probe(plain: Record<string, unknown>): Promise<void> {
  const report: Record<string, unknown> = { uid: Deno.uid(), gid: Deno.gid(), capEff: capEff() };
  try {
    const client = await openClient(plain);
    const previous = await client.get("resume");
    report.previous = previous === undefined ? null : dec.decode(previous);
    await client.set("resume", enc.encode(`written by pid ${Deno.pid}`));
    report.written = dec.decode((await client.get("resume"))!);
    await client.close();
    report.ok = true;
  } catch (e) {
    report.ok = false;
    report.error = e instanceof Error ? e.message : String(e);
  }
  out(JSON.stringify(report));
}

async function fill(client: StorageClient): Promise<void> {
  const early = 20;
  for (let i = 0; i < early; i++) await client.set(`early${i}`, enc.encode(`value ${i}`));
  out(`early ${early}`);
  const big = new Uint8Array(256 * 1024).fill(7);
  let acked = 0;
  try {
    for (;; acked++) await client.set(`big${acked}`, big);
  } catch (e) {
    out(`error ${JSON.stringify((e as Error).message)}`);
  }
  out(`acked ${acked}`);
  let intact = 0;
  for (let i = 0; i < early; i++) {
    const v = await client.get(`early${i}`);
    if (v !== undefined && dec.decode(v) === `value ${i}`) intact++;
  }
  out(`intact ${intact}`);
}

const [mode, json] = Deno.args;
const plain = JSON.parse(json ?? "{}") as Record<string, unknown>;
switch (mode) {
  case "batches":
    await batches(await openClient(plain));
    break;
  case "hold":
    await hold(await openClient(plain));
    break;
  case "probe":
    await probe(plain);
    break;
  case "fill":
    await fill(await openClient(plain));
    break;
  default:
    console.error(`unknown mode ${mode}`);
    Deno.exit(2);
}
