/**
 * Builds one deployment profile's binary, `dist/otelcol-deno-<profile>`, with the profile's
 * narrow allow-lists baked in:
 *
 *   deno task compile:agent [--target=<triple>] [NAME=value …]
 *
 * `NAME=value` replaces a variable the manifest sets (e.g. `BACKEND_ENDPOINT=https://…` for
 * the gateway, `HTTPS_PROXY=http://proxy:3128` for the audit agent), so the baked --allow-net
 * names that host. `--print` prints the flags without compiling. `deno compile` honours
 * `DENORT_BIN` as the plain `compile` task does.
 *
 * @module
 */

import { profileFlags, repoFile } from "./profiles.ts";

/** The plain `compile` task's options other than permissions and output (e.g. `--include`). */
async function compileOptions(): Promise<string[]> {
  const tasks = JSON.parse(await Deno.readTextFile(repoFile("deno.json"))).tasks;
  const args: string[] = (tasks.compile.command ?? tasks.compile).split(/\s+/).slice(2);
  const out: string[] = [];
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === "--output") i++;
    else if (!args[i]!.startsWith("--allow-")) out.push(args[i]!);
  }
  return out;
}

const [name, ...rest] = Deno.args;
const overrides: Record<string, string> = {};
const passThrough: string[] = [];
let printOnly = false;
for (const arg of rest) {
  if (arg === "--print") printOnly = true;
  else if (arg.startsWith("--target=")) passThrough.push(arg);
  else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(arg)) {
    const eq = arg.indexOf("=");
    overrides[arg.slice(0, eq)] = arg.slice(eq + 1);
  } else {
    console.error(`Unknown argument "${arg}": expected --print, --target=<triple> or NAME=value`);
    Deno.exit(2);
  }
}
if (name === undefined) {
  console.error("Usage: deno run … deploy/compile.ts <agent|gateway|audit> [NAME=value …]");
  Deno.exit(2);
}
const { flags, problems } = await profileFlags(name, overrides);
for (const p of problems) console.error(`Warning: ${p}`);
if (printOnly) {
  console.log(flags.join("\n"));
  Deno.exit(0);
}
const output = `dist/otelcol-deno-${name}`;
console.error(`Building ${output} with ${flags.join(" ")}`);
const status = await new Deno.Command(Deno.execPath(), {
  args: [
    "compile",
    ...flags,
    ...await compileOptions(),
    // The pods' root filesystem is read-only: no V8 code cache to write next to the binary.
    "--no-code-cache",
    ...passThrough,
    "--output",
    repoFile(output),
    repoFile("mod.ts"),
  ],
  cwd: repoFile("."),
  stdout: "inherit",
  stderr: "inherit",
}).spawn().status;
Deno.exit(status.code);
