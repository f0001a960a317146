/**
 * Config-to-ready start-up time for a 10-component config, in-process and as a process.
 * Baselines from the same run: parsing the same YAML text alone (in-process), and a Deno
 * process that prints "ready" and exits (process start-up floor).
 *
 * Run: deno run --allow-all bench/startup_bench.ts
 *
 * @module
 */

import { parse } from "yaml";
import { BUILTIN_FACTORIES } from "../components.ts";
import { Collector, loadCollectorConfig } from "../core/service/collector.ts";
import { binaryPermissionFlags, repoPath } from "../tests/fakes/run.ts";

const ITERATIONS = 20;
const PROCESS_RUNS = 5;

function configText(dir: string): string {
  return `extensions:
  file_storage/a:
    directory: ${dir}/a
    create_directory: true
  file_storage/b:
    directory: ${dir}/b
    create_directory: true
receivers:
  filelog/pods:
    include: [${dir}/pods/*/*/*.log]
    storage: file_storage/a
    operators:
      - type: container
  filelog/audit:
    include: [${dir}/audit/*.log]
    storage: file_storage/b
processors:
  batch: {}
  batch/audit:
    timeout: 1s
  batch/small:
    send_batch_size: 100
exporters:
  debug: {}
  debug/detailed:
    verbosity: detailed
  otlp_http:
    endpoint: http://127.0.0.1:1
service:
  extensions: [file_storage/a, file_storage/b]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    logs/pods:
      receivers: [filelog/pods]
      processors: [batch, batch/small]
      exporters: [debug, otlp_http]
    logs/audit:
      receivers: [filelog/audit]
      processors: [batch/audit]
      exporters: [debug/detailed]
`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function inProcess(text: string): Promise<{ ready: number; baseline: number }> {
  const ready: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    parse(text);
    baseline.push(performance.now() - t0);

    const t1 = performance.now();
    const { config, issues } = await loadCollectorConfig(
      { uris: [`yaml:${text}`] },
      BUILTIN_FACTORIES,
    );
    if (!config) throw new Error(issues.map((x) => x.message).join("\n"));
    const c = new Collector(config, { logSink: () => {} });
    await c.start();
    ready.push(performance.now() - t1);
    await c.shutdown();
  }
  return { ready: median(ready), baseline: median(baseline) };
}

async function timeToLine(args: string[], line: string): Promise<number> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "piped" })
    .spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let elapsed = NaN;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
    if (seen.includes(line)) {
      elapsed = performance.now() - t0;
      break;
    }
  }
  try {
    child.kill("SIGTERM");
  } catch { /* already exited */ }
  await reader.cancel();
  await child.status;
  if (Number.isNaN(elapsed)) throw new Error(`Process never printed "${line}":\n${seen}`);
  return elapsed;
}

async function asProcess(configPath: string): Promise<{ ready: number; baseline: number }> {
  const flags = await binaryPermissionFlags();
  const ready: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < PROCESS_RUNS; i++) {
    baseline.push(await timeToLine(["eval", "console.error('ready')"], "ready"));
    ready.push(
      await timeToLine(
        [
          "run",
          ...flags,
          repoPath("mod.ts"),
          "--config",
          configPath,
          "--set",
          "service::telemetry::logs::level=info",
        ],
        "Everything is ready",
      ),
    );
  }
  return { ready: median(ready), baseline: median(baseline) };
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir();
  try {
    const text = configText(dir);
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(path, text);
    const a = await inProcess(text);
    const b = await asProcess(path);
    console.log("start-up, 10-component config (median)");
    console.log(
      `  in-process config-to-ready  ${a.ready.toFixed(2)} ms   baseline: YAML parse alone ${
        a.baseline.toFixed(2)
      } ms`,
    );
    console.log(
      `  process spawn-to-ready      ${
        b.ready.toFixed(0)
      } ms    baseline: deno eval to first line ${b.baseline.toFixed(0)} ms`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
