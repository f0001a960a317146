/**
 * The node agent end to end, as users run it: the collector as a separate process (mod.ts
 * with the `compile` task's permission flags), the standard agent config — filelog with the
 * `container` operator and `storage: file_storage` → `batch` → `otlp_http` (protobuf, gzip
 * by default) — against a loopback OTLP sink in another process (`agent_sink.ts`), on
 * kubelet-style CRI files (several files, ~2 % `P`/`F` pieces).
 *
 * Figures for the collector process (all its threads, from /proc/PID/stat and
 * /proc/PID/status): lines per CPU-second, lines/s wall, peak RSS (VmHWM), and the event
 * loop's p99 delay measured inside it (`OTELCOL_DENO_LOOP_DELAY_FILE`, see
 * core/telemetry/loop_delay.ts). Baselines on the same files in the same run: `cat`,
 * `gzip -1`, `gzip -6`, `zstd -1`; at a steady rate, `gzip -6` and `gzip -1` of the lines
 * written while measured, as a share of a core over the same time, and `steady_floor.ts` (the
 * least a Deno program does for the job: tail, compress, POST) under the same load; idle, the
 * same program polling the same files without compression (its RSS: the least a Deno program
 * holding them needs).
 *
 * Modes: `drain` (a backlog, with gzip, zstd and none, and gzip without `batch`), `steady`
 * (lines appended at a rate across 20 files with kubelet-style rotation), `idle` (many
 * unchanged files), `kill` (SIGKILL once a third of a backlog reached the sink, restart,
 * count lines sent twice). Steady, idle and kill use the first of `--compressions`.
 *
 * Run: deno run -A bench/agent_e2e_bench.ts [--files 8] [--lines 100000] [--modes
 *   drain,steady,idle,kill] [--compressions gzip,zstd,none] [--steady-rate 10000]
 *   [--steady-seconds 15] [--idle-files 1000] [--idle-seconds 30] [--kill-lines 300000]
 *   [--rotate-bytes 1048576] [--no-batch] [--collector-run-flags "--cpu-prof --cpu-prof-dir=p"]
 *
 * @module
 */

import { concatBytes } from "../core/bytes.ts";
import { loopDelayQuantile, type LoopDelaySnapshot } from "../core/telemetry/loop_delay.ts";
import { CollectorProcess } from "../tests/fakes/collector_process.ts";
import { CriWriter } from "../tests/fakes/cri_writer.ts";
import { repoPath } from "../tests/fakes/run.ts";
import {
  cpuSeconds,
  hasCommand,
  memMiB,
  type Row,
  Sink,
  type SinkStats,
  sleep,
  tool,
} from "./processes.ts";

// ---------------------------------------------------------------- arguments

function arg(name: string, def: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1]! : def;
}
const FILES = Number(arg("files", "8"));
/** The default corpus is issue #11's: 8 files of 100,000 lines (800,000 lines, ~168 MB). */
const LINES = Number(arg("lines", "100000"));
const MODES = arg("modes", "drain,steady,idle,kill").split(",");
const COMPRESSIONS = arg("compressions", "gzip,zstd,none").split(",");
const STEADY_RATE = Number(arg("steady-rate", "10000"));
const STEADY_SECONDS = Number(arg("steady-seconds", "15"));
const IDLE_FILES = Number(arg("idle-files", "1000"));
const IDLE_SECONDS = Number(arg("idle-seconds", "30"));
/**
 * Idle CPU is measured from this long after the files were read, as hours of idling see it:
 * by then V8's memory reducer has run (30 s after the heap stopped growing), and the first
 * sweeps' cost (cold code, every file new) no longer stretches the time to the next sweep,
 * so the window holds sweeps at their steady interval. Measured 2 s after reading instead,
 * the window held neither: 0.40–0.50 % of a core where this one gives 0.6 %.
 */
const IDLE_FROM_S = 45;
const KILL_LINES = Number(arg("kill-lines", "300000"));
/** Steady mode rotates a file at this size (kubelet's containerLogMaxSize is 10Mi). */
const ROTATE_BYTES = Number(arg("rotate-bytes", String(1024 * 1024)));
const WITH_BATCH = !Deno.args.includes("--no-batch");
/** Extra `deno run` flags for the collector, space-separated (e.g. `--cpu-prof`). */
const COLLECTOR_RUN_FLAGS = arg("collector-run-flags", "").split(" ").filter((f) => f !== "");

// ---------------------------------------------------------------- CRI files

export interface Corpus {
  /** Directory holding `<pod>/<container>/0.log` files. */
  podsDir: string;
  files: string[];
  lines: number;
  records: number;
  bytes: number;
}

/** Writes `files` CRI files of `lines` lines each under `dir/pods`. */
export async function makeCorpus(
  dir: string,
  files: number,
  lines: number,
  seed = 1,
): Promise<Corpus> {
  const podsDir = `${dir}/pods`;
  const paths: string[] = [];
  let total = 0, records = 0, bytes = 0;
  for (let f = 0; f < files; f++) {
    const d = `${podsDir}/bench_pod-${f}_${crypto.randomUUID()}/app`;
    await Deno.mkdir(d, { recursive: true });
    const w = new CriWriter(seed * 1000 + f, records);
    const path = `${d}/0.log`;
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    const enc = new TextEncoder();
    for (let done = 0; done < lines;) {
      const n = Math.min(10_000, lines - done);
      const chunk = enc.encode(w.text(n));
      bytes += chunk.length;
      for (let off = 0; off < chunk.length;) off += await file.write(chunk.subarray(off));
      done = w.lines;
    }
    file.close();
    total += w.lines;
    records += w.records;
    paths.push(path);
  }
  return { podsDir, files: paths, lines: total, records, bytes };
}

// ---------------------------------------------------------------- the collector

export interface CollectorOptions {
  dir: string;
  glob: string;
  port: number;
  compression: string;
  batch: boolean;
  loopProbe: boolean;
}

export function collectorConfig(o: CollectorOptions): string {
  return `extensions:
  file_storage:
    directory: ${o.dir}/state
    create_directory: true
receivers:
  filelog:
    include: [${o.glob}]
    start_at: beginning
    include_file_path: true
    include_file_name: false
    storage: file_storage
    retry_on_failure:
      enabled: true
    operators:
      - type: container
        id: container-parser
processors:
  batch: {}
exporters:
  otlp_http:
    endpoint: http://127.0.0.1:${o.port}
    compression: ${o.compression}
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
  pipelines:
    logs:
      receivers: [filelog]
      processors: [${o.batch ? "batch" : ""}]
      exporters: [otlp_http]
`;
}

/** The collector process with its loop-delay probe file, if any. */
class Collector {
  static async start(o: CollectorOptions): Promise<Collector> {
    const cfg = `${o.dir}/config.yaml`;
    await Deno.writeTextFile(cfg, collectorConfig(o));
    const probe = o.loopProbe ? `${o.dir}/loop.json` : undefined;
    const proc = await CollectorProcess.spawn({
      args: ["--config", cfg],
      env: probe === undefined ? {} : { OTELCOL_DENO_LOOP_DELAY_FILE: probe },
      runFlags: COLLECTOR_RUN_FLAGS,
    });
    return new Collector(proc, probe);
  }

  private constructor(readonly proc: CollectorProcess, readonly probe: string | undefined) {}

  get pid(): number {
    return this.proc.pid;
  }

  stop(): Promise<Deno.CommandStatus> {
    return this.proc.stop();
  }

  kill(): Promise<void> {
    return this.proc.kill();
  }

  cpu(): number {
    return cpuSeconds(this.pid);
  }

  /** The loop-delay probe's snapshot, waiting for the first one. */
  async loop(): Promise<LoopDelaySnapshot | undefined> {
    if (this.probe === undefined) return undefined;
    for (let i = 0; i < 40; i++) {
      try {
        return JSON.parse(await Deno.readTextFile(this.probe));
      } catch {
        await sleep(100);
      }
    }
    return undefined;
  }
}

// ---------------------------------------------------------------- modes

/** Steady, idle and kill: the first of `--compressions`, no loop probe. */
function firstCompression(dir: string, glob: string, port: number): CollectorOptions {
  return { dir, glob, port, compression: COMPRESSIONS[0]!, batch: WITH_BATCH, loopProbe: false };
}

async function drain(corpus: Corpus, compression: string, batch = WITH_BATCH): Promise<Row> {
  const dir = await Deno.makeTempDir({ prefix: "agent-e2e-" });
  const sink = await Sink.start();
  const watched = `${dir}/pods`;
  await Deno.mkdir(watched);
  const c = await Collector.start({
    dir,
    glob: `${watched}/*/*/*.log`,
    port: sink.port,
    compression,
    batch,
    loopProbe: true,
  });
  try {
    const loop0 = await c.loop();
    const cpu0 = c.cpu();
    const t0 = performance.now();
    // The backlog appears at once: the pod directories move into the watched directory.
    for await (const e of Deno.readDir(corpus.podsDir)) {
      await Deno.rename(`${corpus.podsDir}/${e.name}`, `${watched}/${e.name}`);
    }
    await sink.until((s) => s.records >= corpus.records, 600_000, "the drain");
    const wallS = (performance.now() - t0) / 1000;
    const cpuS = c.cpu() - cpu0;
    const rssMiB = memMiB(c.pid, "VmHWM");
    await sleep(1100); // one more probe snapshot covering the end of the drain
    const loop1 = await c.loop();
    const loopP99Ms = loop1 ? loopDelayQuantile(loop0, loop1, 0.99) : undefined;
    // Move the files back for the next run.
    for await (const e of Deno.readDir(watched)) {
      await Deno.rename(`${watched}/${e.name}`, `${corpus.podsDir}/${e.name}`);
    }
    return {
      what: `collector, compression: ${compression}${batch ? "" : " (no batch)"}`,
      wallS,
      cpuS,
      rssMiB,
      loopP99Ms,
    };
  } finally {
    await c.stop();
    await sink.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** One of the steady mode's container logs and its kubelet-style rotation state. */
interface SteadyLog {
  dir: string;
  size: number;
  rotated: string[];
  w: CriWriter;
}

/** 20 empty container logs under `<root>/pods`. */
async function steadyLogs(root: string): Promise<SteadyLog[]> {
  const logs: SteadyLog[] = [];
  for (let f = 0; f < 20; f++) {
    const d = `${root}/pods/bench_steady-${f}_${crypto.randomUUID()}/app`;
    await Deno.mkdir(d, { recursive: true });
    await Deno.writeTextFile(`${d}/0.log`, "");
    logs.push({ dir: d, size: 0, rotated: [], w: new CriWriter(7000 + f, f * 100_000_000) });
  }
  return logs;
}

/** What a steady load measured of the process tailing it. */
interface SteadyFigures {
  /** CPU of the process as a share of one core over the measured window. */
  cpuPct: number;
  peakRssMiB: number;
  /** Records and bytes written in all, the warm-up included. */
  records: number;
  bytes: number;
  rotations: number;
  /** The lines written while measured. */
  measured: Uint8Array;
  wallS: number;
}

/**
 * Appends `STEADY_RATE` lines/s across `logs`, rotating each as kubelet does, and measures
 * process `pid` from the end of a warm-up for `STEADY_SECONDS`.
 */
async function steadyLoad(logs: SteadyLog[], pid: number): Promise<SteadyFigures> {
  const maxFiles = 5; // kubelet: containerLogMaxFiles
  const enc = new TextEncoder();
  let records = 0, bytesWritten = 0, rotations = 0;
  const tickMs = 100;
  const perTick = STEADY_RATE * tickMs / 1000;
  const warmupS = 3;
  let cpu0 = 0, t0 = 0;
  const measured: Uint8Array[] = [];
  const start = performance.now();
  for (let tick = 0;; tick++) {
    const due = start + tick * tickMs;
    const now = performance.now();
    if (now < due) await sleep(due - now);
    const elapsed = (performance.now() - start) / 1000;
    if (t0 === 0 && elapsed >= warmupS) {
      cpu0 = cpuSeconds(pid);
      t0 = performance.now();
    }
    if (elapsed >= warmupS + STEADY_SECONDS) break;
    for (let f = 0; f < logs.length; f++) {
      const l = logs[f]!;
      const n = Math.round(perTick * (f + 1) / logs.length) -
        Math.round(perTick * f / logs.length);
      const before = l.w.records;
      const bytes = enc.encode(l.w.text(n));
      records += l.w.records - before;
      bytesWritten += bytes.length;
      await Deno.writeFile(`${l.dir}/0.log`, bytes, { append: true });
      if (t0 !== 0) measured.push(bytes);
      l.size += bytes.length;
      if (l.size >= ROTATE_BYTES) {
        const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
        const rotated = `${l.dir}/0.log.${stamp}.${rotations++}`;
        await Deno.rename(`${l.dir}/0.log`, rotated);
        await Deno.writeTextFile(`${l.dir}/0.log`, "");
        l.rotated.push(rotated);
        if (l.rotated.length > maxFiles - 1) await Deno.remove(l.rotated.shift()!);
        l.size = 0;
      }
    }
  }
  const wallS = (performance.now() - t0) / 1000;
  return {
    cpuPct: (cpuSeconds(pid) - cpu0) / wallS * 100,
    peakRssMiB: memMiB(pid, "VmHWM"),
    records,
    bytes: bytesWritten,
    rotations,
    measured: concatBytes(measured),
    wallS,
  };
}

/** `steady_floor.ts` as its own process: the least a Deno program does for the steady job. */
class Floor {
  static async start(root: string, port: number, compression: string): Promise<Floor> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-net",
        repoPath("bench/steady_floor.ts"),
        root,
        `http://127.0.0.1:${port}`,
        compression,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const floor = new Floor(child);
    while (!floor.#out.includes("ready")) {
      const { value, done } = await floor.#reader.read();
      if (done) throw new Error("steady_floor.ts exited before it was ready");
      floor.#out += value;
    }
    return floor;
  }

  #out = "";
  readonly #reader: ReadableStreamDefaultReader<string>;
  private constructor(readonly child: Deno.ChildProcess) {
    this.#reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Stops it; the bytes it read. */
  async stop(): Promise<number> {
    this.child.kill("SIGTERM");
    for (;;) {
      const { value, done } = await this.#reader.read();
      if (done) break;
      this.#out += value;
    }
    await this.child.status;
    return Number(this.#out.match(/read (\d+)/)?.[1] ?? NaN);
  }
}

/**
 * The collector tailing `STEADY_RATE` lines/s across 20 files with kubelet rotation, then the
 * floor program on a second set of files under the same load.
 */
async function steady(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "agent-e2e-" });
  const sink = await Sink.start();
  const compression = COMPRESSIONS[0]!;
  try {
    const collectorRoot = `${dir}/collector`;
    const logs = await steadyLogs(collectorRoot);
    const c = await Collector.start(
      firstCompression(collectorRoot, `${collectorRoot}/pods/*/*/*.log`, sink.port),
    );
    let run: SteadyFigures, got: SinkStats;
    try {
      run = await steadyLoad(logs, c.pid);
      got = await sink.until((s) => s.records >= run.records, 30_000, "the steady lines").catch(
        async () => await sink.stats(),
      );
    } finally {
      await c.stop();
    }
    const floorRoot = `${dir}/floor`;
    const floorLogs = await steadyLogs(floorRoot);
    const floor = await Floor.start(`${floorRoot}/pods`, sink.port, compression);
    let floorRun: SteadyFigures, floorRead: number;
    try {
      floorRun = await steadyLoad(floorLogs, floor.pid);
      await sleep(1000); // a few polls, for the last lines
    } finally {
      floorRead = await floor.stop();
    }
    const lines = `${dir}/measured.log`;
    await Deno.writeFile(lines, run.measured);
    const share = async (cmd: string) =>
      (await tool(cmd, `${cmd} -c`, [lines])).cpuS / run.wallS * 100;
    return `steady ${STEADY_RATE} lines/s across 20 files for ${STEADY_SECONDS} s ` +
      `(${run.rotations} rotations): ${run.cpuPct.toFixed(1)} % of one core, ` +
      `peak RSS ${run.peakRssMiB.toFixed(0)} MiB; ${got.records}/${run.records} lines delivered; ` +
      `the same lines through \`gzip -6\` alone: ${(await share("gzip -6")).toFixed(1)} %, ` +
      `\`gzip -1\`: ${(await share("gzip -1")).toFixed(1)} % of one core; the least a Deno ` +
      `program does for the same job (steady_floor.ts: tail, ${compression}, POST): ` +
      `${floorRun.cpuPct.toFixed(1)} % of one core, ${floorRead}/${floorRun.bytes} bytes read`;
  } finally {
    await sink.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** What an idle window measured of one process. */
interface IdleFigures {
  cpuPct: number;
  rssMiB: number;
  peakMiB: number;
}

/** CPU over `IDLE_SECONDS` from `IDLE_FROM_S` on, and RSS at the end, of process `pid`. */
async function idleWindow(pid: number): Promise<IdleFigures> {
  await sleep(IDLE_FROM_S * 1000);
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const cpuPct = (cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000) * 100;
  // After the memory reducer gave pooled pages back: the RSS an idle node settles at.
  return { cpuPct, rssMiB: memMiB(pid, "VmRSS"), peakMiB: memMiB(pid, "VmHWM") };
}

/**
 * The collector once it read `IDLE_FILES` files that then stay unchanged; then, on the same
 * files, the floor program without compression (no worker): the least memory a Deno program
 * tailing them holds.
 */
async function idle(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "agent-e2e-" });
  const corpus = await makeCorpus(dir, IDLE_FILES, 10, 3);
  const sink = await Sink.start();
  try {
    const c = await Collector.start(
      firstCompression(dir, `${corpus.podsDir}/*/*/*.log`, sink.port),
    );
    let agent: IdleFigures;
    try {
      await sink.until((s) => s.records >= corpus.records, 120_000, "the idle files' lines");
      agent = await idleWindow(c.pid);
    } finally {
      await c.stop();
    }
    const sent = (await sink.stats()).requests;
    const floor = await Floor.start(corpus.podsDir, sink.port, "none");
    let least: IdleFigures, read: number;
    try {
      await sink.until((s) => s.requests > sent, 120_000, "the floor's first request");
      least = await idleWindow(floor.pid);
    } finally {
      read = await floor.stop();
    }
    return `idle, ${IDLE_FILES} unchanged files for ${IDLE_SECONDS} s from ${IDLE_FROM_S} s ` +
      `after they were read: ${agent.cpuPct.toFixed(2)} % of one core, RSS ${
        agent.rssMiB.toFixed(0)
      } MiB at the end (peak ${agent.peakMiB.toFixed(0)} MiB); the same files polled by ` +
      `steady_floor.ts without compression: ${least.cpuPct.toFixed(2)} %, RSS ${
        least.rssMiB.toFixed(0)
      } MiB (peak ${least.peakMiB.toFixed(0)} MiB), ${read}/${corpus.bytes} bytes read`;
  } finally {
    await sink.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function kill(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "agent-e2e-" });
  const corpus = await makeCorpus(dir, FILES, Math.ceil(KILL_LINES / FILES), 5);
  const sink = await Sink.start(corpus.records);
  const opts = firstCompression(dir, `${corpus.podsDir}/*/*/*.log`, sink.port);
  let c = await Collector.start(opts);
  try {
    const first = await sink.until((s) => s.records > 0, 120_000, "the first lines");
    const t0 = performance.now();
    const atKill = await sink.until(
      (s) => s.unique >= corpus.records / 3,
      600_000,
      "a third of the backlog",
    );
    await c.kill();
    const rate = (atKill.records - first.records) / ((performance.now() - t0) / 1000);
    c = await Collector.start(opts);
    await sink.until((s) => s.unique >= corpus.records, 600_000, "the rest of the backlog");
    await sleep(1000);
    const end = await sink.stats();
    return `kill -9 after ${atKill.unique} of ${corpus.records} lines, restart: ${end.duplicates} ` +
      `lines received twice = ${(end.duplicates / rate).toFixed(1)} s of drain at ${
        Math.round(rate)
      } lines/s; ${end.unique} unique lines, none missing`;
  } finally {
    await c.stop();
    await sink.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------- main

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

if (import.meta.main) {
  if (MODES.includes("drain")) {
    const dir = await Deno.makeTempDir({ prefix: "agent-e2e-corpus-" });
    try {
      const corpus = await makeCorpus(dir, FILES, LINES);
      const pieces = corpus.lines - corpus.records;
      console.log(
        `drain: ${fmt(corpus.lines)} CRI lines (${fmt(corpus.records)} records, ${
          fmt(pieces / corpus.lines * 100, 1)
        } % P/F pieces), ${fmt(corpus.bytes / 1e6, 1)} MB in ${FILES} files; ` +
          `filelog (container, file_storage) → ${WITH_BATCH ? "batch → " : ""}otlp_http → sink`,
      );
      const rows: Row[] = [];
      rows.push(await tool("cat", "cat", corpus.files));
      rows.push(await tool("gzip -1", "gzip -1 -c", corpus.files));
      rows.push(await tool("gzip -6", "gzip -6 -c", corpus.files));
      if (await hasCommand("zstd")) rows.push(await tool("zstd -1", "zstd -q -1 -c", corpus.files));
      else console.log("zstd not installed");
      for (const comp of COMPRESSIONS) rows.push(await drain(corpus, comp));
      // The same without the batch processor shows what batching costs the drain.
      if (WITH_BATCH) rows.push(await drain(corpus, COMPRESSIONS[0]!, false));
      const gzip1 = corpus.lines / rows.find((r) => r.what === "gzip -1")!.cpuS;
      console.log(
        "| what | wall s | lines/s wall | CPU-s | lines per CPU-s | × gzip -1 | peak RSS MiB | loop p99 ms |",
      );
      console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
      for (const r of rows) {
        const perCpu = corpus.lines / r.cpuS;
        console.log(
          `| ${r.what} | ${fmt(r.wallS, 2)} | ${fmt(corpus.lines / r.wallS)} | ${
            fmt(r.cpuS, 2)
          } | ${fmt(perCpu)} | ${fmt(perCpu / gzip1, 2)} | ${
            r.rssMiB === undefined ? "" : fmt(r.rssMiB)
          } | ${r.loopP99Ms === undefined ? "" : fmt(r.loopP99Ms)} |`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  if (MODES.includes("steady")) console.log(await steady());
  if (MODES.includes("idle")) console.log(await idle());
  if (MODES.includes("kill")) console.log(await kill());
}
