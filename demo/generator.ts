/**
 * The demo's log generator, run as its own process: writes kubelet-style CRI files for the
 * pods of `pods.ts` under `<dir>/var/log/pods` (a few lines per second per pod with bursts,
 * `P`/`F` pieces, kubelet's rotation: rename to `0.log.<YYYYMMDD-hhmmss>`, the older rotated
 * files gzipped a second later, at most `--max-files` per container) and serves those pods
 * from a fake Kubernetes API on loopback.
 *
 * It creates every `0.log` empty, prints `kube <url>` on stdout, and writes nothing until it
 * reads `start` on stdin (the agent's `start_at: end` would skip earlier lines). Commands on
 * stdin, one per line: `start`, `pause-rotation`, `resume-rotation`, `stop` (stop writing;
 * prints `stopped`). Every second and at the end it replaces `--status FILE` with
 * {@linkcode GeneratorStatus}. SIGINT/SIGTERM: stop and exit 0.
 *
 * Run: deno run --allow-read --allow-write --allow-net demo/generator.ts --dir DIR
 *   --status FILE [--rate 4] [--burst-chance 0.02] [--rotate-bytes 262144] [--max-files 5]
 *   [--partial-share 0.03] [--seconds 0]
 *
 * @module
 */

import zlib from "node:zlib";
import { promisify } from "node:util";
import { CriWriter, rng } from "../tests/fakes/cri_writer.ts";
import { FakeKubeApi } from "../tests/fakes/kube_api.ts";
import { type DemoPod, demoPods, ID_STRIDE, namespaceObjects, podObject } from "./pods.ts";

/** What the generator has written so far (the `--status` file). */
export interface GeneratorStatus {
  /** Records (logical lines) written per pod, in `demoPods()` order: ids base..base+n-1. */
  records: number[];
  /** Physical CRI lines written, `P` pieces included. */
  lines: number;
  rotations: number;
  gzipped: number;
  /** True once writing stopped for good. */
  done: boolean;
}

const gzip = promisify(zlib.gzip);

function arg(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1]! : def;
}

/** kubelet's rotated-file suffix: `20261204-101010`. */
function rotationStamp(d: Date): string {
  return d.toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
}

interface PodLog {
  pod: DemoPod;
  dir: string;
  writer: CriWriter;
  size: number;
  /** Rotated files, oldest first (uncompressed names). */
  rotated: string[];
  owed: number;
}

const dir = arg("dir", "");
const statusFile = arg("status", "");
if (dir === "" || statusFile === "") {
  console.error("usage: generator.ts --dir DIR --status FILE [options]; see the module doc");
  Deno.exit(2);
}
const rate = Number(arg("rate", "4"));
const burstChance = Number(arg("burst-chance", "0.02"));
const rotateBytes = Number(arg("rotate-bytes", String(256 * 1024)));
const maxFiles = Number(arg("max-files", "5"));
const partialShare = Number(arg("partial-share", "0.03"));
const seconds = Number(arg("seconds", "0"));

const pods = demoPods();
const kube = FakeKubeApi.start();
kube.seed("pods", pods.map(podObject));
kube.seed("namespaces", namespaceObjects(pods));

const logs: PodLog[] = [];
for (const pod of pods) {
  const d = `${dir}/var/log/pods/${pod.logDir}`;
  await Deno.mkdir(d, { recursive: true });
  await Deno.writeTextFile(`${d}/0.log`, "");
  logs.push({
    pod,
    dir: d,
    writer: new CriWriter(pod.index + 1, pod.index * ID_STRIDE, { wallClock: true, partialShare }),
    size: 0,
    rotated: [],
    owed: 0,
  });
}

const status: GeneratorStatus = {
  records: pods.map(() => 0),
  lines: 0,
  rotations: 0,
  gzipped: 0,
  done: false,
};
let rotationPaused = false;
let writing = false;
let stopped = false;
const random = rng(42);
const encoder = new TextEncoder();

async function saveStatus(): Promise<void> {
  const tmp = `${statusFile}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(status));
  await Deno.rename(tmp, statusFile);
}

async function rotate(l: PodLog): Promise<void> {
  const rotatedName = `${l.dir}/0.log.${rotationStamp(new Date())}`;
  if (l.rotated.includes(rotatedName)) return; // one rotation per second, as kubelet's names
  await Deno.rename(`${l.dir}/0.log`, rotatedName);
  await Deno.writeTextFile(`${l.dir}/0.log`, "");
  l.rotated.push(rotatedName);
  l.size = 0;
  status.rotations++;
  while (l.rotated.length > maxFiles - 1) {
    const oldest = l.rotated.shift()!;
    await Deno.remove(oldest).catch(() => Deno.remove(`${oldest}.gz`)).catch(() => {});
  }
}

/** kubelet keeps the newest rotated file as is and compresses the older ones. */
async function compressOld(l: PodLog): Promise<void> {
  for (const name of l.rotated.slice(0, -1)) {
    let data: Uint8Array;
    try {
      data = await Deno.readFile(name);
    } catch {
      continue; // already compressed
    }
    await Deno.writeFile(`${name}.gz.tmp`, await gzip(data));
    await Deno.rename(`${name}.gz.tmp`, `${name}.gz`);
    await Deno.remove(name);
    status.gzipped++;
  }
}

async function tick(): Promise<void> {
  for (const l of logs) {
    l.owed += rate / 10;
    let n = Math.floor(l.owed);
    l.owed -= n;
    if (random() < burstChance / 10) n += 50 + Math.floor(random() * 250);
    if (n === 0) continue;
    const before = l.writer.lines;
    const bytes = encoder.encode(l.writer.text(n));
    await Deno.writeFile(`${l.dir}/0.log`, bytes, { append: true });
    l.size += bytes.length;
    status.lines += l.writer.lines - before;
    status.records[l.pod.index] = l.writer.records;
    if (l.size >= rotateBytes && !rotationPaused) await rotate(l);
  }
}

async function stop(): Promise<void> {
  if (stopped) return;
  stopped = true;
  writing = false;
  status.done = true;
  await saveStatus();
  console.log("stopped");
}

async function run(): Promise<void> {
  const t0 = performance.now();
  let lastSecond = 0;
  for (let n = 1; writing; n++) {
    await tick();
    const elapsed = performance.now() - t0;
    if (Math.floor(elapsed / 1000) > lastSecond) {
      lastSecond = Math.floor(elapsed / 1000);
      if (!rotationPaused) { for (const l of logs) await compressOld(l); }
      await saveStatus();
    }
    if (seconds > 0 && elapsed >= seconds * 1000) break;
    const wait = t0 + n * 100 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await stop();
}

async function shutdown(): Promise<never> {
  await stop();
  await kube.stop();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);

await saveStatus();
console.log(`kube ${kube.url}`);
let running: Promise<void> | undefined;
for await (const line of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  for (const cmd of line.split("\n").map((c) => c.trim()).filter(Boolean)) {
    if (cmd === "start" && running === undefined && !stopped) {
      writing = true;
      running = run();
    } else if (cmd === "pause-rotation") rotationPaused = true;
    else if (cmd === "resume-rotation") rotationPaused = false;
    else if (cmd === "stop") {
      writing = false;
      await (running ?? stop());
      await stop();
    }
    console.log(`ok ${cmd}`);
  }
}
await shutdown();
