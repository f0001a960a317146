/**
 * Helpers for the subprocess tests of the `file_storage` extension.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The child program these tests run. */
export const CHILD_SCRIPT = fileURLToPath(new URL("./_child.ts", import.meta.url));

/** The arguments that run the child program (at `script`) with `deno`. */
export function childArgs(
  mode: string,
  config: Record<string, unknown>,
  script = CHILD_SCRIPT,
): string[] {
  // --no-lock: the child must not touch the shared deno.lock (or need it writable).
  return ["run", "-A", "--no-lock", script, mode, JSON.stringify(config)];
}

/** A running child whose stdout lines are collected as they arrive. */
export class ChildProcess {
  readonly process: Deno.ChildProcess;
  readonly lines: string[] = [];
  #stderr = "";
  #waiters: (() => void)[] = [];
  #ended = false;
  readonly #done: Promise<void>;

  /** Starts `cmd` with `args` (piped stdout and stderr). */
  constructor(cmd: string, args: string[], env?: Record<string, string>, clearEnv = false) {
    this.process = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env,
      clearEnv,
    }).spawn();
    this.#done = Promise.all([this.#readLines(), this.#readStderr()]).then(() => {});
  }

  async #readLines(): Promise<void> {
    let buf = "";
    for await (const chunk of this.process.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        this.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      this.#wake();
    }
    if (buf !== "") this.lines.push(buf);
    this.#ended = true;
    this.#wake();
  }

  async #readStderr(): Promise<void> {
    for await (const chunk of this.process.stderr.pipeThrough(new TextDecoderStream())) {
      this.#stderr += chunk;
    }
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** What the child wrote to stderr so far (for failure messages). */
  get stderr(): string {
    return this.#stderr;
  }

  /** Waits until a line satisfies `pred` and returns it; throws when the child ends first. */
  async waitForLine(pred: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(pred);
      if (found !== undefined) return found;
      if (this.#ended) {
        throw new Error(
          `Child ended without the expected line; stdout tail: ${
            this.lines.slice(-5).join(" | ")
          }; stderr: ${this.#stderr}`,
        );
      }
      if (Date.now() > end) {
        throw new Error(`Timed out waiting for a line; stderr: ${this.#stderr}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Kills the child with `signal` and waits for it and its output to end. */
  async kill(signal: Deno.Signal = "SIGKILL"): Promise<Deno.CommandStatus> {
    try {
      this.process.kill(signal);
    } catch {
      // already exited
    }
    return await this.wait();
  }

  /** Waits for the child to exit and its output to be read. */
  async wait(): Promise<Deno.CommandStatus> {
    const status = await this.process.status;
    await this.#done;
    return status;
  }
}

/** True when this process runs as root. */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** True when `name` is an executable on PATH. */
export function hasCommand(name: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** True when this process may mount a tmpfs (root with CAP_SYS_ADMIN, as on CI). */
export function canMountTmpfs(): boolean {
  if (!isRoot()) return false;
  const dir = Deno.makeTempDirSync({ prefix: "file_storage_mount_probe_" });
  try {
    const ok = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
    if (ok) new Deno.Command("umount", { args: [dir] }).outputSync();
    return ok;
  } catch {
    return false;
  } finally {
    Deno.removeSync(dir);
  }
}
