/**
 * What the end-to-end benchmarks share: a process's CPU and memory from /proc, a free loopback
 * port, the loopback OTLP sink as its own process (`agent_sink.ts`), and the timing of a
 * baseline command.
 *
 * @module
 */

import { repoPath } from "../tests/fakes/run.ts";

const CLK_TCK = Number(
  new TextDecoder().decode(
    (await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output()).stdout,
  )
    .trim(),
) || 100;

/** CPU seconds (user + system, all threads) of a process. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** A field of /proc/PID/status in MiB (VmHWM, VmRSS). */
export function memMiB(pid: number, field: string): number {
  const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(new RegExp(`${field}:\\s+(\\d+)`));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A loopback TCP port that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the sink counted so far. */
export interface SinkStats {
  requests: number;
  records: number;
  bytes: number;
  unique: number;
  duplicates: number;
}

export class Sink {
  static async start(track = 0): Promise<Sink> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", repoPath("bench/agent_sink.ts"), "--track", String(track)],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/port (\d+)/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error("sink exited");
      text += value;
    }
    reader.releaseLock();
    child.stdout.cancel().catch(() => {});
    return new Sink(child, Number(text.match(/port (\d+)/)![1]));
  }
  private constructor(readonly child: Deno.ChildProcess, readonly port: number) {}

  async stats(): Promise<SinkStats> {
    const r = await fetch(`http://127.0.0.1:${this.port}/stats`);
    return await r.json();
  }

  /** Polls until `pred` holds; throws after `timeoutMs`. */
  async until(
    pred: (s: SinkStats) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<SinkStats> {
    const t0 = performance.now();
    for (;;) {
      const s = await this.stats();
      if (pred(s)) return s;
      if (performance.now() - t0 > timeoutMs) {
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
      }
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.child.status;
  }
}

/** One row of a figures table: wall and CPU seconds, optional memory and loop delay. */
export interface Row {
  what: string;
  wallS: number;
  cpuS: number;
  rssMiB?: number;
  loopP99Ms?: number;
  note?: string;
}

/** Runs `cmd` on `files` (output discarded); wall seconds and bash's CPU `times`. */
export async function tool(what: string, cmd: string, files: string[]): Promise<Row> {
  const quoted = files.map((f) => `'${f}'`).join(" ");
  const t0 = performance.now();
  const out = await new Deno.Command("bash", {
    args: ["-c", `${cmd} ${quoted} > /dev/null; times`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wallS = (performance.now() - t0) / 1000;
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const times = [...lines.at(-1)!.matchAll(/(\d+)m([\d.]+)s/g)].map((m) =>
    Number(m[1]) * 60 + Number(m[2])
  );
  return { what, wallS, cpuS: times[0]! + times[1]! };
}

/** Whether `name` is on the PATH. */
export async function hasCommand(name: string): Promise<boolean> {
  const r = await new Deno.Command("bash", { args: ["-c", `command -v ${name}`], stdout: "null" })
    .output();
  return r.success;
}
