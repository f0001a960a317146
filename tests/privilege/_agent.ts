/**
 * Runs the node agent the way its DaemonSet does: uid 1000, gid 0, no supplementary groups,
 * no capabilities (`setpriv`), with the Deno allow-lists the agent profile computes for its
 * config. In a private mount namespace a temporary tree is mounted over /var/log and
 * /var/lib, so the shipped agent.yaml's paths (/var/log/pods, /var/lib/telemetry-log-agent)
 * are used as they are, like the DaemonSet's hostPath mounts.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import { formatFlags, minimize, permissionNeeds } from "../../core/permissions/mod.ts";
import { CONFIG_DIR, repoFile } from "../../deploy/profiles.ts";
import { ChildProcess } from "../file_storage/_helpers.ts";

export const UID = 1000;
export const GID = 0;

/** What the agent's host looks like, under `root`. */
export interface AgentHost {
  root: string;
  /** Mounted at /var/log: holds pods/, root-owned, directories 0750, files 0640. */
  varLog: string;
  pods: string;
  /** Mounted at /var/lib: holds telemetry-log-agent/, 1777 and root-owned like /var/tmp. */
  varLib: string;
  state: string;
  /** Where the config lives (like /etc/otelcol-deno). */
  configDir: string;
  home: string;
  /** A deno binary and the sources, where uid 1000 can reach them. */
  deno: string;
  entry: string;
  denoDir: string;
}

function sh(cmd: string, ...args: string[]): void {
  const r = new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).outputSync();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

/** True when uid 1000 / gid 0 can run `args` successfully. */
export function runsAsAgent(args: string[]): boolean {
  return new Deno.Command("setpriv", {
    args: ["--reuid", `${UID}`, "--regid", `${GID}`, "--clear-groups", ...args],
    stdout: "null",
    stderr: "null",
  }).outputSync().success;
}

/** Makes `path` and its ancestors searchable by others (temp dirs are 0700). */
function openUpTo(path: string): void {
  for (let p = path; p !== "/"; p = dirname(p)) {
    const mode = Deno.statSync(p).mode! & 0o7777;
    if ((mode & 0o001) === 0) Deno.chmodSync(p, mode | 0o005);
  }
}

/** Where Deno keeps downloaded npm packages for this process. */
function npmCacheDir(): string {
  const out = new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
    .outputSync();
  return JSON.parse(new TextDecoder().decode(out.stdout)).npmCache as string;
}

/**
 * Builds the host: the log tree, the sticky state parent, a home, and — where the install
 * is private to root (CI) — copies of deno, the sources and the npm cache uid 1000 can read.
 */
export function makeHost(): AgentHost {
  const root = Deno.makeTempDirSync({ prefix: "privilege_agent_" });
  Deno.chmodSync(root, 0o755);
  openUpTo(root);
  const varLog = join(root, "var/log");
  const pods = join(varLog, "pods");
  Deno.mkdirSync(pods, { recursive: true });
  Deno.chmodSync(pods, 0o750);
  const varLib = join(root, "var/lib");
  const state = join(varLib, "telemetry-log-agent");
  Deno.mkdirSync(state, { recursive: true });
  Deno.chmodSync(state, 0o1777);
  const configDir = join(root, "etc/otelcol-deno");
  Deno.mkdirSync(configDir, { recursive: true });
  const home = join(root, "home");
  Deno.mkdirSync(home);
  Deno.chmodSync(home, 0o777);

  let deno = Deno.execPath();
  if (!runsAsAgent([deno, "--version"])) {
    deno = join(root, "deno");
    Deno.copyFileSync(Deno.execPath(), deno);
    Deno.chmodSync(deno, 0o755);
  }
  const repo = repoFile(".");
  let entry = repoFile("mod.ts");
  if (!runsAsAgent(["test", "-r", entry])) {
    const src = join(root, "src");
    Deno.mkdirSync(src);
    for (const part of ["mod.ts", "components.ts", "deno.json", "core", "pkg", "receivers"]) {
      sh("cp", "-R", join(repo, part), src);
    }
    for (const part of ["processors", "exporters", "extensions", "third_party"]) {
      sh("cp", "-R", join(repo, part), src);
    }
    sh("chmod", "-R", "a+rX", src);
    entry = join(src, "mod.ts");
  }
  // The npm packages the sources import, without a download: hard links where possible. The
  // test runner has only fetched what its own test modules import, so in a fresh clone the
  // entry point's packages (e.g. the SDK behind the own logs) may not be cached yet: cache them,
  // without the lock file as the agent runs, so the registry's package lists are cached too.
  sh(Deno.execPath(), "cache", "--quiet", "--no-lock", repoFile("mod.ts"));
  const denoDir = join(root, "deno_dir");
  Deno.mkdirSync(denoDir);
  const npm = npmCacheDir();
  try {
    sh("cp", "-al", npm, join(denoDir, "npm"));
  } catch {
    sh("cp", "-R", npm, join(denoDir, "npm"));
  }
  sh("chmod", "-R", "a+rX", denoDir);
  return { root, varLog, pods, varLib, state, configDir, home, deno, entry, denoDir };
}

/** Writes one container's log file the way kubelet does (root:root, 0640 in 0750 dirs). */
export function writePodLog(host: AgentHost, pod: string, lines: string[], append = false): string {
  const dir = join(host.pods, pod, "app");
  Deno.mkdirSync(dir, { recursive: true });
  Deno.chmodSync(join(host.pods, pod), 0o750);
  Deno.chmodSync(dir, 0o750);
  const file = join(dir, "0.log");
  const text = lines.map((l) => `2026-12-04T10:00:00.000000000Z stdout F ${l}\n`).join("");
  Deno.writeTextFileSync(file, text, { append, mode: 0o640 });
  Deno.chmodSync(file, 0o640);
  return file;
}

/**
 * The shipped agent.yaml with the gateway (for the pipeline and the own logs) replaced by
 * `endpoint`, and what needs a cluster (k8sattributes, which needs the API server) left out;
 * `edit` may change more.
 */
export function agentConfig(
  host: AgentHost,
  endpoint: string,
  // deno-lint-ignore no-explicit-any
  edit: (c: Record<string, any>) => void = () => {},
): string {
  const c = parse(Deno.readTextFileSync(repoFile("deploy/kubernetes/agent/agent.yaml")));
  delete c.processors.k8sattributes;
  c.service.pipelines.logs.processors = c.service.pipelines.logs.processors.filter(
    (p: string) => p !== "k8sattributes",
  );
  c.extensions.health_check.endpoint = "127.0.0.1:0";
  c.service.telemetry.metrics = { level: "none" };
  // The agent's own logs go to the same sink, as to the gateway in the cluster.
  const own = c.service.telemetry.logs.processors[0].batch;
  own.exporter.otlp.endpoint = `${endpoint}/v1/logs`;
  own.schedule_delay = 100;
  c.receivers.filelog.start_at = "beginning";
  c.receivers.filelog.poll_interval = "50ms";
  c.exporters.otlp_http.endpoint = endpoint;
  c.exporters.otlp_http.retry_on_failure = { initial_interval: "100ms", max_elapsed_time: 0 };
  edit(c);
  const file = join(host.configDir, "agent.yaml");
  Deno.writeTextFileSync(file, stringify(c));
  Deno.chmodSync(file, 0o644);
  return file;
}

/** The agent profile's flags for `config`, computed as deploy/profiles.ts does. */
export async function agentFlags(config: string, env: Record<string, string>): Promise<string[]> {
  const { needs } = await permissionNeeds({ uris: [config], env: (n) => env[n] });
  return formatFlags(minimize(needs));
}

/** The variables the DaemonSet sets (Downward API values faked). */
export const AGENT_ENV = {
  K8S_NODE_NAME: "node-1",
  K8S_POD_NAME: "otelcol-deno-agent-x",
  K8S_POD_NAMESPACE: "observability",
};

/** True when this process can make a private mount namespace with bind mounts (root). */
export function canUnshareMounts(): boolean {
  try {
    return new Deno.Command("unshare", {
      args: ["--mount", "--propagation", "private", "sh", "-c", "mount --bind /tmp /mnt"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/**
 * The command that runs `mod.ts args` as the agent's user (uid 1000, gid 0, no supplementary
 * groups, no capabilities) with `flags`, from the host's deno, sources and npm cache; `env` is
 * the environment it adds to.
 */
export function agentCommand(
  host: AgentHost,
  flags: string[],
  args: string[],
  env: Record<string, string>,
): { cmd: string; args: string[]; env: Record<string, string> } {
  return {
    cmd: "setpriv",
    args: [
      "--reuid",
      `${UID}`,
      "--regid",
      `${GID}`,
      "--clear-groups",
      "--inh-caps=-all",
      host.deno,
      "run",
      "--no-lock",
      "--cached-only",
      ...flags,
      host.entry,
      ...args,
    ],
    env: {
      ...env,
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: host.home,
      DENO_DIR: host.denoDir,
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    },
  };
}

/**
 * Starts `mod.ts args` as the agent's user with `flags`, with the host's tree mounted over
 * /var/log and /var/lib in a private mount namespace; the caller waits or kills it.
 */
export function spawnAgent(host: AgentHost, flags: string[], args: string[]): ChildProcess {
  const agent = agentCommand(host, flags, args, AGENT_ENV);
  return new ChildProcess(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      // $0 and $1 are the trees; the rest is the command.
      'mount --bind "$0" /var/log && mount --bind "$1" /var/lib && shift && exec "$@"',
      host.varLog,
      host.varLib,
      agent.cmd,
      ...agent.args,
    ],
    agent.env,
    true,
  );
}

export { CONFIG_DIR };
