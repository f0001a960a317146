/**
 * Runs every benchmark script in this folder, one after another, each in its own process.
 * Each prints its figures next to a baseline measured in the same run.
 *
 * Run: deno task bench   (or: deno run --allow-all bench/main.ts [name …])
 *
 * @module
 */

const here = new URL(".", import.meta.url).pathname;
const wanted = new Set(Deno.args);
const scripts = [...Deno.readDirSync(here)]
  .map((e) => e.name)
  .filter((n) => n.endsWith("_bench.ts"))
  .filter((n) => wanted.size === 0 || wanted.has(n.replace(/_bench\.ts$/, "")))
  .sort();

let failed = 0;
for (const script of scripts) {
  console.log(`\n=== ${script}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${here}${script}`],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.log(`${script} failed with exit code ${code}`);
    failed++;
  }
}
Deno.exit(failed === 0 ? 0 : 1);
