/**
 * Shared by the filelog kill tests: the real collector as a child process (filelog on the CRI
 * files under `<dir>/pods` with the `container` operator → capture exporter into
 * `<dir>/exported.txt`, checkpoints in the real SQLite file_storage under `<dir>/state`).
 *
 * @module
 */
import { spawnCli } from "../fakes/run.ts";

/** The CRI timestamp the kill tests write on every line. */
export const CRI_TIME = "2024-05-01T12:00:00.000000001Z";

/** Options of {@link writeKillConfig}. */
export interface KillConfigOptions {
  /** YAML list items appended after `- type: container` (indented for `operators:`). */
  moreOperators?: string;
  /** The capture exporter's `delay` per batch, e.g. `30ms`. */
  captureDelay?: string;
}

/** Writes `<dir>/config.yaml` for {@link startCollector}. */
export function writeKillConfig(dir: string, options: KillConfigOptions = {}): Promise<void> {
  const delay = options.captureDelay ? `\n    delay: ${options.captureDelay}` : "";
  return Deno.writeTextFile(
    `${dir}/config.yaml`,
    `extensions:
  file_storage:
    directory: ${dir}/state
    create_directory: true
receivers:
  filelog:
    include: [${dir}/pods/*/*/*.log]
    start_at: beginning
    poll_interval: 50ms
    include_file_path: true
    storage: file_storage
    operators:
      - type: container
${options.moreOperators ?? ""}exporters:
  capture:${delay}
    file: ${dir}/exported.txt
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [filelog]
      exporters: [capture]
`,
  );
}

/** A running collector and its whole stderr once it exited. */
export interface CollectorChild {
  child: Deno.ChildProcess;
  stderr: Promise<string>;
}

/** Starts the collector on `<dir>/config.yaml`; its stderr is also pushed to `stderrs`. */
export async function startCollector(dir: string, stderrs: string[] = []): Promise<CollectorChild> {
  const child = await spawnCli(["--config", `${dir}/config.yaml`], {
    entry: "tests/fakes/test_main.ts",
  });
  child.stdout.cancel();
  const stderr = new Response(child.stderr).text().then((t) => {
    stderrs.push(t);
    return t;
  });
  return { child, stderr };
}

/** Waits for the collector to exit and its stderr to be read. */
export async function exitStatus(c: CollectorChild): Promise<Deno.CommandStatus> {
  const status = await c.child.status;
  await c.stderr;
  return status;
}

/** The non-empty lines of the capture exporter's file (none before it exists). */
export async function exportedLines(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
