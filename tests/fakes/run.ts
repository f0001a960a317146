/**
 * Runs the CLI as a subprocess with exactly the permission flags that the `compile` task
 * embeds in the binary (read from deno.json, so the two cannot drift apart).
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);

/** The `--allow-*` flags of deno.json's `compile` task. */
export async function binaryPermissionFlags(): Promise<string[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const command: string = denoJson.tasks.compile.command ?? denoJson.tasks.compile;
  return command.split(/\s+/).filter((a) => a.startsWith("--allow-"));
}

/** Absolute path of a file in the repository. */
export function repoPath(relative: string): string {
  return new URL(relative, ROOT).pathname;
}

/** Output of a finished CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `entry` (mod.ts by default) with `args` and waits for it to exit. */
export async function runCliProcess(
  args: string[],
  options: { entry?: string; env?: Record<string, string>; cwd?: string } = {},
): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...await binaryPermissionFlags(), repoPath(options.entry ?? "mod.ts"), ...args],
    env: options.env,
    cwd: options.cwd ?? repoPath("."),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Starts `entry` with `args` in the background; the caller owns the child. */
export async function spawnCli(
  args: string[],
  options: { entry?: string; env?: Record<string, string> } = {},
): Promise<Deno.ChildProcess> {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...await binaryPermissionFlags(), repoPath(options.entry ?? "mod.ts"), ...args],
    env: options.env,
    cwd: repoPath("."),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}
