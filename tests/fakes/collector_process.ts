/**
 * The collector as its own process (mod.ts with the `compile` task's permission flags): waits
 * for "Everything is ready", keeps the tail of its log, stops with SIGTERM (SIGKILL after a
 * grace period) or dies by SIGKILL. Shared by the end-to-end benchmarks, tests and the demo.
 *
 * @module
 */

import { binaryPermissionFlags, repoPath } from "./run.ts";

/** Options of {@linkcode CollectorProcess.spawn}. */
export interface CollectorSpawnOptions {
  /** Arguments after the entry point (`--config …`, `--set …`). */
  args: string[];
  env?: Record<string, string>;
  /** Extra flags for `deno run` before the permission flags (e.g. `--v8-flags=…`). */
  runFlags?: string[];
  /** Where stderr goes besides the kept tail (a log file), if anywhere. */
  logFile?: string;
  /** In its own session, so a terminal's Ctrl-C does not reach it (the demo stops it). */
  detached?: boolean;
}

/** A running collector process. */
export class CollectorProcess {
  /** The last 20,000 characters of its stderr. */
  log = "";
  /** Resolves once the collector logged "Everything is ready"; rejects if it exits first. */
  readonly ready: Promise<void>;
  readonly child: Deno.ChildProcess;

  constructor(child: Deno.ChildProcess, logFile?: string) {
    this.child = child;
    let resolve!: () => void, reject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.ready.catch(() => {});
    (async () => {
      const file = logFile === undefined
        ? undefined
        : await Deno.open(logFile, { append: true, create: true });
      const enc = new TextEncoder();
      try {
        for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) {
          this.log = (this.log + t).slice(-20_000);
          await file?.write(enc.encode(t));
          if (this.log.includes("Everything is ready")) resolve();
        }
      } finally {
        file?.close();
      }
      reject(new Error(`collector exited before it was ready:\n${this.log}`));
    })().catch(() => {});
  }

  /** Spawns mod.ts and waits until it is ready. */
  static async spawn(o: CollectorSpawnOptions): Promise<CollectorProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...o.runFlags ?? [],
        ...await binaryPermissionFlags(),
        repoPath("mod.ts"),
        ...o.args,
      ],
      env: o.env,
      stdout: "null",
      stderr: "piped",
      detached: o.detached,
    }).spawn();
    const c = new CollectorProcess(child, o.logFile);
    await c.ready;
    return c;
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  async stop(graceMs = 20_000): Promise<Deno.CommandStatus> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone */ }
    }, graceMs);
    const status = await this.child.status;
    clearTimeout(timer);
    return status;
  }

  /** SIGKILL; resolves when it exited. */
  async kill(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.child.status;
  }
}
