/**
 * `deno task demo` as a user runs it: enriched records on its output within 20 s, and after
 * SIGINT (Ctrl-C) it exits 0 leaving no process and no file behind. "Cleanly" means more than
 * that: the demo stops its processes in order (its children are in their own sessions, so the
 * terminal's SIGINT reaches only the demo), so the agent hands over what it read while the
 * gateway and the sink still run and both collectors exit by themselves (exit 0) instead of
 * being killed after the demo's 5 s grace, and nothing arrived twice.
 *
 * @module
 */

import assert from "node:assert/strict";
import { repoPath } from "../fakes/run.ts";

/** Processes whose command line mentions `text` (every demo child names its directory). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      if (cmd.includes(text)) found.push(`${e.name}: ${cmd}`);
    } catch { /* exited meanwhile */ }
  }
  return found;
}

function hasSetsid(): boolean {
  try {
    return new Deno.Command("setsid", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "e2e: deno task demo shows enriched records within 20 s and leaves nothing after SIGINT",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // In its own session, so SIGINT can go to the whole process group as a terminal's Ctrl-C
    // does (every process gets it at once), where setsid exists.
    const group = hasSetsid();
    const child = new Deno.Command(group ? "setsid" : Deno.execPath(), {
      args: group ? [Deno.execPath(), "task", "demo"] : ["task", "demo"],
      cwd: repoPath("."),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let out = "";
    const stderr = new Response(child.stderr).text();
    const reading = (async () => {
      for await (const t of child.stdout.pipeThrough(new TextDecoderStream())) out += t;
    })();
    const deadline = Date.now() + 20_000;
    const enriched =
      /last record's resource:[^]*?k8s\.deployment\.name=\S+[^]*?container\.image\.name=\S+/;
    while (!enriched.test(out) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const dir = /running in (\S+)/.exec(out)?.[1];
    const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    if (group) Deno.kill(-child.pid, "SIGINT");
    else child.kill("SIGINT");
    const status = await child.status;
    await reading;
    const err = await stderr;
    assert.ok(enriched.test(out), `no enriched record within 20 s:\n${out}\n${err}`);
    assert.ok(dir !== undefined && pids.length === 2, out);
    assert.equal(status.code, 0, err);
    assert.match(out, /stopped; nothing left behind/);
    assert.match(out, /^ {2}agent: exit 0 after/m, out.slice(out.indexOf("stopping")));
    assert.match(out, /^ {2}gateway: exit 0 after/m, out.slice(out.indexOf("stopping")));
    assert.match(out, /^ {2}sink: \d+ of the \d+ lines written arrived, 0 twice/m);
    assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound, `${dir} is left behind`);
    assert.deepEqual(processesMentioning(dir), []);
    assert.deepEqual(pids.filter(alive), []);
  },
});
