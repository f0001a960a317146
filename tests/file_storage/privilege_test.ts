/**
 * The node agent's setup: a non-root user (uid 1000, gid 0, no capabilities) creates its
 * own state directory inside a world-writable sticky directory (the host's /var/tmp mounted
 * at /var/lib/telemetry-log-agent), and resumes from it after a restart. And the errors it
 * gets where it may not write.
 *
 * Needs root (setpriv changes user only from root): ignored otherwise.
 */

import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { CHILD_SCRIPT, childArgs, ChildProcess, hasCommand, isRoot } from "./_helpers.ts";

const UID = 1000;
const GID = 0;
const runnable = isRoot() && hasCommand("setpriv");

interface Report {
  ok: boolean;
  uid: number;
  gid: number;
  capEff: string;
  previous?: string | null;
  written?: string;
  error?: string;
}

/** Makes `path` and its ancestors searchable by others (temp dirs are 0700). */
function openUpTo(path: string): void {
  for (let p = path; p !== "/" && p !== "/tmp"; p = dirname(p)) {
    const mode = Deno.statSync(p).mode! & 0o7777;
    Deno.chmodSync(p, mode | 0o005);
  }
}

interface Env {
  root: string;
  home: string;
  varTmp: string;
  /** A deno binary uid 1000 can run. */
  deno: string;
  /** The child script, where uid 1000 can read it and what it imports. */
  script: string;
}

/** True when `args` run successfully as uid 1000 / gid 0. */
function runsAsUser(args: string[]): boolean {
  return new Deno.Command("setpriv", {
    args: ["--reuid", String(UID), "--regid", String(GID), "--clear-groups", ...args],
    stdout: "null",
    stderr: "null",
  }).outputSync().success;
}

function run(cmd: string, ...args: string[]): void {
  const r = new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).outputSync();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

/** Runs the child's `probe` as uid 1000 / gid 0 without capabilities. */
async function probeAsUser(env: Env, config: Record<string, unknown>): Promise<Report> {
  const child = new ChildProcess(
    "setpriv",
    [
      "--reuid",
      String(UID),
      "--regid",
      String(GID),
      "--clear-groups",
      "--inh-caps=-all",
      env.deno,
      ...childArgs("probe", config, env.script),
    ],
    {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: env.home,
      DENO_DIR: join(env.home, "deno_dir"),
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    },
    true,
  );
  const status = await child.wait();
  assert.equal(status.code, 0, `the child failed to run as uid ${UID}: ${child.stderr}`);
  const line = child.lines.find((l) => l.startsWith("{"));
  assert.ok(line, `no report from the child; stderr: ${child.stderr}`);
  return JSON.parse(line) as Report;
}

async function setup(): Promise<Env> {
  const root = await Deno.makeTempDir({ prefix: "file_storage_priv_" });
  Deno.chmodSync(root, 0o755);
  openUpTo(root);
  // Deno must be runnable by uid 1000; where its install is private (e.g. under /root on
  // CI), use a copy.
  let deno = Deno.execPath();
  if (!runsAsUser([deno, "--version"])) {
    deno = join(root, "deno");
    Deno.copyFileSync(Deno.execPath(), deno);
    Deno.chmodSync(deno, 0o755);
  }
  // Likewise the sources the child imports: copy them when the checkout is private.
  let script = CHILD_SCRIPT;
  const repo = fileURLToPath(new URL("../../", import.meta.url));
  const probe = [
    "/bin/sh",
    "-c",
    'test -r "$0" && test -r "$1"',
    script,
    join(repo, "core/component.ts"),
  ];
  if (!runsAsUser(probe)) {
    const src = join(root, "src");
    Deno.mkdirSync(join(src, "extensions"), { recursive: true });
    Deno.mkdirSync(join(src, "tests"), { recursive: true });
    run("cp", "-R", join(repo, "core"), src);
    run("cp", "-R", join(repo, "extensions", "file_storage"), join(src, "extensions"));
    run("cp", "-R", dirname(CHILD_SCRIPT), join(src, "tests"));
    run("chmod", "-R", "a+rX", src);
    script = join(src, relative(repo, CHILD_SCRIPT));
  }
  assert.ok(runsAsUser([deno, "--version"]), `uid ${UID} cannot run ${deno}`);
  assert.ok(runsAsUser([...probe.slice(0, 3), script, script]), `uid ${UID} cannot read ${script}`);
  const home = join(root, "home");
  Deno.mkdirSync(home);
  Deno.chmodSync(home, 0o777);
  const varTmp = join(root, "var-tmp"); // like /var/tmp: root-owned, world-writable, sticky
  Deno.mkdirSync(varTmp);
  Deno.chmodSync(varTmp, 0o1777);
  return { root, home, varTmp, deno, script };
}

Deno.test({
  name:
    "uid 1000 creates its state directory in a sticky /var/tmp-like parent and resumes after restart",
  ignore: !runnable,
  async fn() {
    const env = await setup();
    const { root, varTmp } = env;
    try {
      const agentDir = join(varTmp, "telemetry-log-agent");
      const stateDir = join(agentDir, "file-log-receiver");
      const config = { directory: stateDir, create_directory: true };

      const first = await probeAsUser(env, config);
      assert.equal(first.ok, true, first.error);
      assert.equal(first.uid, UID);
      assert.equal(first.gid, GID);
      assert.equal(BigInt("0x" + first.capEff), 0n, "no effective capabilities");
      assert.equal(first.previous, null);

      for (const dir of [agentDir, stateDir]) {
        const st = Deno.statSync(dir);
        assert.equal(st.uid, UID, `${dir} is owned by the agent's user`);
        assert.equal(st.gid, GID);
        assert.equal((st.mode! & 0o7777).toString(8), "750", `${dir} has directory_permissions`);
      }
      const db = Deno.statSync(join(stateDir, "receiver_filelog_.sqlite"));
      assert.equal(db.uid, UID);
      assert.equal(db.mode! & 0o777, 0o600);

      // Restart: the same user finds and reads its state.
      const second = await probeAsUser(env, config);
      assert.equal(second.ok, true, second.error);
      assert.equal(second.previous, first.written);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "uid 1000 on a root-owned directory: the error names the path, uid/gid and the mode found",
  ignore: !runnable,
  async fn() {
    const env = await setup();
    const { root } = env;
    try {
      const rootOnly = join(root, "root-only");
      Deno.mkdirSync(rootOnly);
      Deno.chmodSync(rootOnly, 0o755);

      const existing = await probeAsUser(env, { directory: rootOnly });
      assert.equal(existing.ok, false);
      assert.match(
        existing.error!,
        new RegExp(`Permission denied writing into directory "${rootOnly}"`),
      );
      assert.match(existing.error!, /as uid 1000, gid 0/);
      assert.match(existing.error!, /owned by uid 0, gid 0 with mode 0755 \(drwxr-xr-x\)/);

      const nested = join(rootOnly, "file-log-receiver");
      const create = await probeAsUser(env, { directory: nested, create_directory: true });
      assert.equal(create.ok, false);
      assert.match(
        create.error!,
        new RegExp(`Permission denied creating a directory in "${rootOnly}"`),
      );
      assert.match(create.error!, /as uid 1000, gid 0: it is owned by uid 0, gid 0 with mode 0755/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "uid 1000 finding a database file left by a root run: the error names the file and its mode",
  ignore: !runnable,
  async fn() {
    const env = await setup();
    const { root, varTmp } = env;
    try {
      const stateDir = join(varTmp, "state");
      Deno.mkdirSync(stateDir);
      Deno.chownSync(stateDir, UID, GID);
      const file = join(stateDir, "receiver_filelog_.sqlite");
      Deno.writeFileSync(file, new Uint8Array(0), { mode: 0o600 }); // root-owned, as after a root run
      const report = await probeAsUser(env, { directory: stateDir });
      assert.equal(report.ok, false);
      assert.match(report.error!, new RegExp(`Permission denied opening database file "${file}"`));
      assert.match(
        report.error!,
        /as uid 1000, gid 0: it is owned by uid 0, gid 0 with mode 0600 \(-rw-------\)/,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
