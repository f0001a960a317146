/**
 * filelog throughput, idle cost and memory, each printed next to a baseline measured in
 * the same run.
 *
 *   deno run -A bench/filelog_bench.ts [throughput|idle|busy|memory]
 *     [--lines=1000000] [--idle-seconds=10] [--rate=5000] [--busy-seconds=12] [--files=10000]
 *
 * 1. CRI lines (≈200 B) per CPU-second, file → container operator → discarding consumer,
 *    against `wc -l` and `gzip -1` over the same file (CPU time of those children).
 * 2. Idle CPU with 1,000 unchanged files at the default poll_interval (200ms).
 * 3. Resident memory while tracking 10,000 files.
 *
 * @module
 */

import process from "node:process";
import { ComponentId } from "../core/component.ts";
import { fromPlain } from "../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../core/config/reader.ts";
import { logRecordCount } from "../core/pdata/logs.ts";
import { nopLogger } from "../core/telemetry/logger.ts";
import { MetricsRegistry } from "../core/telemetry/metrics.ts";
import { parseFilelogConfig } from "../receivers/filelog/config.ts";
import { FilelogReceiver, type ReceiverOptions } from "../receivers/filelog/receiver.ts";

function arg(name: string, def: number): number {
  const a = Deno.args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : def;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function makeReceiver(
  plain: Record<string, unknown>,
  onRecords: (n: number) => void,
  options: ReceiverOptions = {},
): FilelogReceiver {
  const issues = new ConfigIssues();
  const cfg = parseFilelogConfig(new ConfigReader(fromPlain(plain), "filelog", issues));
  if (issues.errors.length) throw new Error(JSON.stringify(issues.errors));
  return new FilelogReceiver(
    {
      id: new ComponentId("filelog"),
      kind: "receiver",
      logger: nopLogger(),
      metrics: new MetricsRegistry(),
      componentLabels: { receiver: "filelog" },
      buildInfo: { command: "bench", description: "bench", version: "0" },
    },
    cfg,
    {
      mutatesData: false,
      consume: (logs) => {
        onRecords(logRecordCount(logs));
        return Promise.resolve();
      },
    },
    options,
  );
}

const host = { getExtension: () => undefined, reportFatalError: (e: Error) => console.error(e) };

/** CPU seconds of a child process (user + sys), from /usr/bin/time or the shell's `times`. */
async function childCpu(cmd: string): Promise<number> {
  const out = await new Deno.Command("bash", {
    args: ["-c", `${cmd} > /dev/null; times`],
    stdout: "piped",
  }).output();
  // `times` prints the shell's own times, then its children's: "0m1.234s 0m0.100s".
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const child = lines[lines.length - 1]!.split(/\s+/);
  const secs = (t: string): number => {
    const m = /(\d+)m([\d.]+)s/.exec(t)!;
    return Number(m[1]) * 60 + Number(m[2]);
  };
  return secs(child[0]!) + secs(child[1]!);
}

async function throughput(lines: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "filelog_bench_" });
  const podDir = `${dir}/default_web-7d9f_0f6c7a2e-1b2c-4d5e-8f90-123456789abc/app`;
  await Deno.mkdir(podDir, { recursive: true });
  const path = `${podDir}/0.log`;
  const file = await Deno.open(path, { write: true, create: true });
  const enc = new TextEncoder();
  const filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    .repeat(4);
  let bytes = 0;
  const block: string[] = [];
  for (let i = 0; i < lines; i++) {
    const ns = String(i % 1_000_000_000).padStart(9, "0");
    const msg = `level=info msg="request ${i} served" ` + filler.slice(0, 95 + (i % 60));
    const tag = i % 50 === 0 ? "P" : "F";
    block.push(
      `2024-05-01T12:${String(Math.floor(i / 60000) % 60).padStart(2, "0")}:${
        String(Math.floor(i / 1000) % 60).padStart(2, "0")
      }.${ns}Z stdout ${tag} ${msg}\n`,
    );
    if (block.length === 10_000) {
      const b = enc.encode(block.join(""));
      bytes += b.length;
      await file.write(b);
      block.length = 0;
    }
  }
  if (block.length) {
    const b = enc.encode(block.join(""));
    bytes += b.length;
    await file.write(b);
  }
  file.close();

  let received = 0;
  const r = makeReceiver({
    include: [`${dir}/*/*/*.log`],
    start_at: "beginning",
    include_file_path: true,
    poll_interval: "1h",
    operators: [{ type: "container", id: "container-parser" }],
  }, (n) => received += n);
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  await r.start(host);
  // A poll reads a budget of each file; the backlog takes several.
  do await r.pollOnce(); while (r.tracker.backlog);
  const cpu = cpuSeconds() - cpu0;
  const wall = (performance.now() - t0) / 1000;
  await r.shutdown();
  const expected = lines - Math.ceil(lines / 50); // P pieces join their F line
  const wc = await childCpu(`wc -l ${path}`);
  const gz = await childCpu(`gzip -1 -c ${path}`);
  console.log(
    `\n# Throughput: ${lines} CRI lines, ${(bytes / lines).toFixed(0)} B avg, ${
      (bytes / 1e6).toFixed(1)
    } MB`,
  );
  console.log(`records received: ${received} (expected ${expected})`);
  console.log(
    `filelog+container: ${(lines / cpu).toFixed(0)} lines/CPU-s  (${cpu.toFixed(3)} CPU-s, ${
      wall.toFixed(3)
    } s wall)`,
  );
  console.log(
    `baseline wc -l:    ${(lines / Math.max(wc, 0.001)).toFixed(0)} lines/CPU-s  (${
      wc.toFixed(3)
    } CPU-s)`,
  );
  console.log(
    `baseline gzip -1:  ${(lines / Math.max(gz, 0.001)).toFixed(0)} lines/CPU-s  (${
      gz.toFixed(3)
    } CPU-s)`,
  );
  await Deno.remove(dir, { recursive: true });
}

async function makeFiles(dir: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const pod = `${dir}/ns_pod${i}_${
      (i + 1).toString(16).padStart(8, "0")
    }-aaaa-bbbb-cccc-000000000000/c`;
    await Deno.mkdir(pod, { recursive: true });
    await Deno.writeTextFile(
      `${pod}/0.log`,
      `2024-05-01T12:00:00.000000001Z stdout F file ${i} line\n`,
    );
  }
}

/** CPU share of one core used by a started receiver over `seconds` (after a warm-up). */
async function idleShare(
  dir: string,
  seconds: number,
  options: ReceiverOptions,
  startAt = "beginning",
): Promise<{ share: number; received: number; watching: boolean }> {
  let received = 0;
  const r = makeReceiver(
    {
      include: [`${dir}/*/*/*.log`],
      start_at: startAt,
      include_file_path: true,
      operators: [{ type: "container" }],
    },
    (n) => received += n,
    options,
  );
  await r.start(host);
  await new Promise((res) => setTimeout(res, 3000)); // first reads done, listings cached
  for (let i = 0; i < 100 && options.watch !== false && !r.watching; i++) {
    await new Promise((res) => setTimeout(res, 100));
  }
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  await new Promise((res) => setTimeout(res, seconds * 1000));
  const cpu = cpuSeconds() - cpu0;
  const wall = (performance.now() - t0) / 1000;
  const watching = r.watching;
  await r.shutdown();
  return { share: 100 * cpu / wall, received, watching };
}

async function idle(files: number, seconds: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "filelog_idle_" });
  await makeFiles(dir, files);
  const hinted = await idleShare(dir, seconds, {});
  const polled = await idleShare(dir, seconds, { watch: false });
  // Baseline in the same run: an idle Deno timer loop at the same interval.
  const b0 = cpuSeconds();
  const timer = setInterval(() => {}, 200);
  await new Promise((res) => setTimeout(res, 2000));
  clearInterval(timer);
  const base = (cpuSeconds() - b0) / 2;
  console.log(`\n# Idle: ${files} unchanged files, poll_interval 200ms, ${seconds}s`);
  console.log(`records read at start: ${hinted.received} and ${polled.received}`);
  console.log(
    `filelog idle CPU (default: inotify hints${
      hinted.watching ? "" : " UNAVAILABLE"
    } + 5s sweeps): ${hinted.share.toFixed(2)}% of one core`,
  );
  console.log(`filelog idle CPU (polling only):   ${polled.share.toFixed(2)}% of one core`);
  console.log(`baseline (empty 200ms timer loop): ${(100 * base).toFixed(2)}% of one core`);
  await Deno.remove(dir, { recursive: true });
}

/** A child process appending `rate` CRI lines per second, one write each, across the files. */
function startWriter(dir: string, rate: number): Deno.ChildProcess {
  const code = `
    const files = [];
    for (const pod of Deno.readDirSync(${JSON.stringify(dir)})) {
      files.push(Deno.openSync(${
    JSON.stringify(dir)
  } + "/" + pod.name + "/c/0.log", { append: true }));
    }
    const enc = new TextEncoder();
    const perTick = Math.max(1, Math.round(${rate} / 100));
    let n = 0;
    setInterval(() => {
      for (let i = 0; i < perTick; i++) {
        const f = files[(n * 7919) % files.length];
        f.writeSync(enc.encode("2024-05-01T12:00:00.000000001Z stdout F busy line " + n++ + "\\n"));
      }
    }, 10);
  `;
  return new Deno.Command(Deno.execPath(), { args: ["eval", code], stdout: "null" }).spawn();
}

/** CPU share with a writer appending `rate` lines/s, with and without change notifications. */
async function busy(files: number, rate: number, seconds: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "filelog_busy_" });
  await makeFiles(dir, files);
  const writer = startWriter(dir, rate);
  const hinted = await idleShare(dir, seconds, {}, "end");
  const polled = await idleShare(dir, seconds, { watch: false }, "end");
  writer.kill("SIGKILL");
  await writer.status;
  console.log(
    `\n# Busy: ${rate} lines/s appended across ${files} files (one write each), ${seconds}s`,
  );
  console.log(
    `filelog CPU (default): ${hinted.share.toFixed(2)}% of one core (notifications ${
      hinted.watching ? "in use" : "off: polling"
    } at the end; ${hinted.received} records)`,
  );
  console.log(
    `filelog CPU (polling only): ${
      polled.share.toFixed(2)
    }% of one core (${polled.received} records)`,
  );
  await Deno.remove(dir, { recursive: true });
}

async function memory(files: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "filelog_mem_" });
  await makeFiles(dir, files);
  const rss0 = process.memoryUsage().rss;
  let received = 0;
  const r = makeReceiver({
    include: [`${dir}/*/*/*.log`],
    start_at: "beginning",
    include_file_path: true,
    poll_interval: "1h",
    operators: [{ type: "container" }],
  }, (n) => received += n);
  await r.start(host);
  await r.pollOnce();
  await r.pollOnce();
  const rss1 = process.memoryUsage().rss;
  // Directories changed in the last 2s are listed again on every sweep: measure after that.
  await new Promise((res) => setTimeout(res, 2500));
  await r.pollOnce();
  const cpu0 = cpuSeconds();
  await r.pollOnce();
  const pollCpu = cpuSeconds() - cpu0;
  await r.shutdown();
  console.log(`\n# Memory: ${files} files tracked (max_concurrent_files 1024 open)`);
  console.log(
    `records: ${received}; RSS before ${(rss0 / 2 ** 20).toFixed(0)} MiB, while tracking ${
      (rss1 / 2 ** 20).toFixed(0)
    } MiB (+${((rss1 - rss0) / 2 ** 20).toFixed(0)} MiB)`,
  );
  console.log(`one full poll (sweep) over ${files} files: ${(pollCpu * 1000).toFixed(0)} ms CPU`);
  const seconds = arg("idle-seconds", 10);
  const hinted = await idleShare(dir, seconds, {});
  const polled = await idleShare(dir, seconds, { watch: false });
  console.log(
    `idle CPU with ${files} files: ${hinted.share.toFixed(2)}% of one core (notifications ${
      hinted.watching ? "in use" : "UNAVAILABLE"
    }), ${polled.share.toFixed(2)}% polling only`,
  );
  await Deno.remove(dir, { recursive: true });
}

const which = Deno.args.find((a) => !a.startsWith("--")) ?? "all";
if (which === "all" || which === "throughput") await throughput(arg("lines", 1_000_000));
if (which === "all" || which === "idle") await idle(1000, arg("idle-seconds", 10));
if (which === "all" || which === "busy") {
  await busy(1000, arg("rate", 5000), arg("busy-seconds", 12));
}
if (which === "all" || which === "memory") await memory(arg("files", 10_000));
