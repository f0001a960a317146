/**
 * The topology's node agent exactly as its DaemonSet runs the agent binary: uid 1000, gid 0,
 * no supplementary groups, no capabilities (`setpriv`), `deno run` with **the agent
 * profile's own flags** (`profileFlags("agent")` — what `deno task compile:agent` bakes),
 * the shipped `agent.yaml` from `/etc/otelcol-deno` without any `--set`, and the profile's
 * variables (`GATEWAY_ENDPOINT=http://otelcol-deno-gateway:4318`, the API server as
 * `kubernetes.default.svc:443` with the service account's token and CA).
 *
 * What makes those fixed names work on one machine is a private mount and network namespace
 * (`unshare --mount --net`), held by `_ns_bridge.ts` and entered by every agent start
 * (`nsenter`), so the agent can be killed and restarted in the same one:
 * - the paths the profile's `--allow-read`/`--allow-write` name show the test's tree (bind
 *   mounts; a missing mount point is made in an overlay of its nearest existing ancestor,
 *   so nothing on the machine changes);
 * - `/etc/hosts` maps the profile's host names to the namespace's own loopback, where the
 *   bridge listens on the profile's ports (0.0.0.0:13133 and :8888 are the namespace's own)
 *   and forwards to Unix sockets this process serves in the host's namespace: the gateway's
 *   port, and the generator's fake API behind TLS with a certificate for
 *   `kubernetes.default.svc`.
 *
 * Needs root, unshare (mount + net), overlayfs, nsenter, setpriv and openssl.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CONFIG_DIR, profileFlags, PROFILES, repoFile } from "../../deploy/profiles.ts";
import { DEMO_NODE } from "../../demo/pods.ts";
import type { Topology, TopologyOptions } from "../../demo/topology.ts";
import { makeTestCerts } from "../fakes/otlp_sink.ts";
import { agentCommand, type AgentHost, makeHost } from "../privilege/_agent.ts";
import { splice } from "./_ns_bridge.ts";

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";
/** The agent's command line after mod.ts, as in the DaemonSet. */
export const PROFILE_AGENT_ARGS = ["--config", `${CONFIG_DIR}/agent.yaml`];

function succeeds(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** `unshare` arguments: a shell script in new mount and network namespaces of its own. */
const IN_PRIVATE_NAMESPACES = ["--mount", "--net", "--propagation", "private", "sh", "-c"];

/** True when this machine can run the agent this way (see the module doc). */
export function canRunProfileAgent(): boolean {
  if (Deno.uid() !== 0) return false;
  if (!["setpriv", "nsenter"].every((c) => succeeds(c, ["--version"]))) return false;
  if (!succeeds("openssl", ["version"])) return false;
  const d = Deno.makeTempDirSync();
  try {
    return succeeds("unshare", [
      ...IN_PRIVATE_NAMESPACES,
      'mount -t tmpfs tmpfs "$0" && mkdir "$0/u" "$0/w" && ' +
      'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$0/u,workdir=$0/w" /etc',
      d,
    ]);
  } finally {
    Deno.removeSync(d, { recursive: true });
  }
}

/** Host and port of a URL with a default port. */
function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
}

/** The paths an allow-list flag names (`--allow-read=/a,/b`). */
function flagPaths(flags: readonly string[], kind: string): string[] {
  const flag = flags.find((f) => f.startsWith(`--allow-${kind}=`));
  return flag === undefined ? [] : flag.slice(flag.indexOf("=") + 1).split(",");
}

/** Serves `path`, forwarding every connection to `target()` (read at each connection). */
function forward(path: string, target: () => { hostname: string; port: number }): Deno.Listener {
  const listener = Deno.listen({ transport: "unix", path });
  (async () => {
    for await (const conn of listener) {
      Deno.connect(target()).then((up) => splice(conn, up), () => conn.close());
    }
  })().catch(() => {});
  return listener;
}

/** The namespace set-up: `graft SRC DST` for each pair in `$@`, then exec the bridge. */
const SETUP = `set -e
mount -t tmpfs -o mode=0755 tmpfs "$UPPER"
graft() {
  p=$2
  while [ ! -e "$p" ]; do p=$(dirname "$p"); done
  if [ "$p" != "$2" ]; then
    u=$(mktemp -d -p "$UPPER")
    mkdir "$u/u" "$u/w"
    mount -t overlay overlay -o "lowerdir=$p,upperdir=$u/u,workdir=$u/w" "$p"
    mkdir -p "$2"
  fi
  mount --bind "$1" "$2"
}
while [ "$1" != "--" ]; do graft "$1" "$2"; shift 2; done
shift
exec "$@"
`;

/** A running namespace and what the test asserts about the agent. */
export interface ProfileAgent {
  /** Hooks for {@linkcode Topology.start}. */
  options: Required<Pick<TopologyOptions, "prepare" | "cleanup" | "agentCommand">>;
  /** The agent profile's flags, as `profileFlags("agent")` gives them. */
  flags: string[];
  /** GETs `url` from inside the namespace (the agent's own 0.0.0.0 ports); status and body. */
  get(url: string): Promise<{ status: number; body: string }>;
}

/**
 * The hooks that run the topology's agent as described in the module doc; `own.prepare` runs
 * before the namespace is made (so its mounts show inside), `own.cleanup` after it is gone.
 */
export async function profileAgent(own: {
  prepare?: (t: Topology) => Promise<void>;
  cleanup?: (t: Topology) => Promise<void>;
} = {}): Promise<ProfileAgent> {
  const { flags, problems } = await profileFlags("agent");
  assert.deepEqual(problems, []);
  const env = PROFILES.agent!.env;
  const gateway = hostPort(env.GATEWAY_ENDPOINT!);
  const kube = hostPort(`https://${env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT}`);
  let host: AgentHost | undefined;
  let certsDir: string | undefined;
  let holder: Deno.ChildProcess | undefined;
  const listeners: Deno.Listener[] = [];

  const prepare = async (t: Topology): Promise<void> => {
    await own.prepare?.(t);
    host = makeHost();
    const ns = `${t.dir}/ns`;
    await Deno.mkdir(`${ns}/upper`, { recursive: true });
    await Deno.chmod(ns, 0o755);
    const certs = await makeTestCerts([kube.host]);
    certsDir = certs.dir;
    // What the DaemonSet mounts, as files the agent's user can read.
    const files: Record<string, string> = {
      "config/agent.yaml": await Deno.readTextFile(repoFile(PROFILES.agent!.config)),
      "serviceaccount/token": "demo-token\n",
      "serviceaccount/ca.crt": certs.caPem,
      "serviceaccount/namespace": "observability",
      hosts: `${await Deno.readTextFile("/etc/hosts")}\n127.0.0.1 ${gateway.host} ${kube.host}\n`,
    };
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(`${ns}/${name}`.replace(/\/[^/]+$/, ""), { recursive: true, mode: 0o755 });
      await Deno.writeTextFile(`${ns}/${name}`, text, { mode: 0o644 });
    }
    // Each path the profile's allow-lists name, and the test's directory shown there.
    const at: Record<string, string> = {
      [CONFIG_DIR]: `${ns}/config`,
      [SERVICE_ACCOUNT]: `${ns}/serviceaccount`,
      "/var/log/pods": `${t.dir}/var/log/pods`,
      "/var/lib/telemetry-log-agent": `${t.dir}/var/lib/telemetry-log-agent`,
    };
    for (const p of [...flagPaths(flags, "read"), ...flagPaths(flags, "write")]) {
      assert.ok(at[p] !== undefined, `the agent profile names ${p}: mount a test directory there`);
    }
    const kubePort = Number(new URL(t.kubeUrl).port);
    listeners.push(
      forward(`${ns}/gateway.sock`, () => ({ hostname: "127.0.0.1", port: t.gatewayPort })),
      forward(`${ns}/kube.sock`, () => ({ hostname: "127.0.0.1", port: kubePort })),
    );
    holder = new Deno.Command("unshare", {
      args: [
        ...IN_PRIVATE_NAMESPACES,
        SETUP,
        "setup",
        ...Object.entries(at).flatMap(([dst, src]) => [src, dst]),
        // Over a file, last: an overlay of /etc made above would hide it.
        `${ns}/hosts`,
        "/etc/hosts",
        "--",
        Deno.execPath(),
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-ffi",
        new URL("./_ns_bridge.ts", import.meta.url).pathname,
        "--cert",
        certs.serverCertFile,
        "--key",
        certs.serverKeyFile,
        "--tcp",
        `127.0.0.1:${gateway.port}=${ns}/gateway.sock`,
        "--tls",
        `127.0.0.1:${kube.port}=${ns}/kube.sock`,
      ],
      env: { UPPER: `${ns}/upper` },
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let out = "";
    const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
    while (!out.includes("bridge ready\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the agent's namespace did not come up: ${out}`);
      out += value;
    }
    reader.releaseLock();
  };

  const cleanup = async (t: Topology): Promise<void> => {
    if (holder !== undefined) {
      try {
        holder.kill("SIGTERM");
      } catch { /* gone */ }
      await holder.status;
    }
    for (const l of listeners) l.close();
    if (certsDir !== undefined) await Deno.remove(certsDir, { recursive: true });
    if (host !== undefined) await Deno.remove(host.root, { recursive: true });
    await own.cleanup?.(t);
  };

  const command: ProfileAgent["options"]["agentCommand"] = () => {
    const c = agentCommand(host!, flags, PROFILE_AGENT_ARGS, {
      ...env,
      // The Downward API's values.
      K8S_NODE_NAME: DEMO_NODE,
      K8S_POD_NAME: "otelcol-deno-agent-demo",
      K8S_POD_NAMESPACE: "observability",
    });
    return Promise.resolve({
      cmd: "nsenter",
      args: ["--target", String(holder!.pid), "--net", "--mount", c.cmd, ...c.args],
      env: c.env,
    });
  };
  const get = async (url: string): Promise<{ status: number; body: string }> => {
    const code = "const r = await fetch(Deno.args[0]); " +
      "console.log(JSON.stringify({ status: r.status, body: await r.text() }));";
    const out = await new Deno.Command("nsenter", {
      args: ["--target", String(holder!.pid), "--net", Deno.execPath(), "eval", code, url],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  return { options: { prepare, cleanup, agentCommand: command }, flags, get };
}
