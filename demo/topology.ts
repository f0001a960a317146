/**
 * Starts the demo's topology, each part its own process: the log generator (with the fake
 * Kubernetes API), the sink, the gateway and the node agent — the gateway and the agent run
 * mod.ts with the manifests' own configs from `deploy/kubernetes/`, only paths, endpoints
 * and credentials overridden by `--set`. Used by `deno task demo` (`main.ts`) and by
 * `tests/e2e/`, which also kill and restart the collectors and make the sink refuse.
 *
 * @module
 */

import { CollectorProcess } from "../tests/fakes/collector_process.ts";
import { repoPath } from "../tests/fakes/run.ts";
import type { GeneratorStatus } from "./generator.ts";
import type { SinkCheck, SinkStats } from "./sink.ts";
import { DEMO_NODE } from "./pods.ts";

/** The configs the DaemonSet and the Deployment mount. */
export const AGENT_CONFIG = "deploy/kubernetes/agent/agent.yaml";
export const GATEWAY_CONFIG = "deploy/kubernetes/gateway/gateway.yaml";

/** Options of {@linkcode Topology.start}. */
export interface TopologyOptions {
  /** Lines per second per pod (the generator's `--rate`). */
  rate?: number;
  /** Chance per second per pod of a burst of 50–300 lines. */
  burstChance?: number;
  /** Rotate a pod's `0.log` at this size. */
  rotateBytes?: number;
  /** Show the sink's summary on this process's stdout (else `--quiet`). */
  showSink?: boolean;
  /** Send the gateway's output here instead of the sink (an OTLP/HTTP base URL). */
  backend?: string;
  /** Extra `--set` overrides for the gateway (e.g. a backend's TLS or auth). */
  gatewaySets?: string[];
  /** Extra environment for the gateway (e.g. `BACKEND_TOKEN`). */
  gatewayEnv?: Record<string, string>;
  /**
   * How to run the agent instead of `deno run` with the binary's flags (another user, other
   * allow-lists): the command for mod.ts's `args` and `env`.
   */
  agentCommand?: (
    t: Topology,
    args: string[],
    env: Record<string, string>,
  ) => Promise<{ cmd: string; args: string[]; env: Record<string, string> }>;
  /** Runs once the directory tree exists, before any collector starts (e.g. mounts). */
  prepare?: (t: Topology) => Promise<void>;
  /** Runs after the processes stopped, before the directory is removed (e.g. unmounts). */
  cleanup?: (t: Topology) => Promise<void>;
  /**
   * Each process in its own session, so a terminal's Ctrl-C reaches only the caller, which
   * stops them in order ({@linkcode Topology.stop}) instead of all at once.
   */
  ownSessions?: boolean;
}

/** A free loopback TCP port (bound and released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Lines of a child's stdout, each delivered to whoever waits for a match (or forwarded). */
class LineWaiter {
  #lines: string[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #forward: ((line: string) => void) | undefined;

  constructor(stream: ReadableStream<Uint8Array>) {
    (async () => {
      let rest = "";
      for await (const t of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (rest + t).split("\n");
        rest = parts.pop()!;
        if (this.#forward !== undefined) parts.forEach(this.#forward);
        else this.#lines.push(...parts);
        this.#wake?.();
      }
      this.#ended = true;
      this.#wake?.();
    })().catch(() => {});
  }

  /** The first line (consumed) that `re` matches. */
  async next(re: RegExp, what: string): Promise<RegExpExecArray> {
    for (;;) {
      while (this.#lines.length > 0) {
        const m = re.exec(this.#lines.shift()!);
        if (m !== null) return m;
      }
      if (this.#ended) throw new Error(`${what}: the process ended first`);
      await new Promise<void>((r) => this.#wake = r);
    }
  }

  /** From now on every line goes to `fn` (nobody waits any more). */
  forward(fn: (line: string) => void): void {
    this.#forward = fn;
    this.#lines.splice(0).forEach(fn);
  }
}

/** A child killed if still running: SIGTERM, SIGKILL after `graceMs`. */
async function end(child: Deno.ChildProcess, graceMs = 5_000): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, graceMs);
  await child.status;
  clearTimeout(timer);
}

/** The running topology; see the module doc. */
export class Topology {
  readonly dir: string;
  readonly options: TopologyOptions;
  readonly generator: Deno.ChildProcess;
  readonly sink: Deno.ChildProcess | undefined;
  readonly sinkUrl: string;
  gatewayPort: number;
  /** The fake Kubernetes API's base URL. */
  kubeUrl = "";
  gateway: CollectorProcess | undefined;
  agent: CollectorProcess | undefined;
  #generatorOut: LineWaiter;
  #generatorIn: WritableStreamDefaultWriter<Uint8Array>;

  private constructor(
    dir: string,
    options: TopologyOptions,
    generator: Deno.ChildProcess,
    sink: Deno.ChildProcess | undefined,
    sinkUrl: string,
  ) {
    this.dir = dir;
    this.options = options;
    this.generator = generator;
    this.sink = sink;
    this.sinkUrl = sinkUrl;
    this.gatewayPort = freePort();
    this.#generatorOut = new LineWaiter(generator.stdout);
    this.#generatorIn = generator.stdin.getWriter();
  }

  /**
   * Starts everything in a new temporary directory, in order: generator (empty files, fake
   * API), sink, gateway, agent; then the generator starts writing.
   */
  static async start(options: TopologyOptions = {}): Promise<Topology> {
    const dir = await Deno.makeTempDir({ prefix: "otelcol-deno-demo-" });
    // Group root reads the logs, as on a node (the agent runs with gid 0).
    await Deno.chmod(dir, 0o750);
    const generator = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-net=127.0.0.1",
        repoPath("demo/generator.ts"),
        "--dir",
        dir,
        "--status",
        `${dir}/generator.json`,
        "--rate",
        String(options.rate ?? 4),
        "--burst-chance",
        String(options.burstChance ?? 0.02),
        "--rotate-bytes",
        String(options.rotateBytes ?? 256 * 1024),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      detached: options.ownSessions,
    }).spawn();
    let sink: Deno.ChildProcess | undefined;
    let sinkUrl = options.backend ?? "";
    let t: Topology | undefined;
    try {
      if (options.backend === undefined) {
        sink = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-net=127.0.0.1",
            `--allow-read=${dir}`,
            repoPath("demo/sink.ts"),
            "--port",
            "0",
            "--status",
            `${dir}/generator.json`,
            ...options.showSink ? [] : ["--quiet"],
          ],
          stdout: "piped",
          stderr: "inherit",
          detached: options.ownSessions,
        }).spawn();
        const out = new LineWaiter(sink.stdout);
        const port = (await out.next(/^sink (\d+)$/, "the sink's port"))[1];
        out.forward(options.showSink ? (line) => console.log(line) : () => {});
        sinkUrl = `http://127.0.0.1:${port}`;
      }
      t = new Topology(dir, options, generator, sink, sinkUrl);
      t.kubeUrl = (await t.#generatorOut.next(/^kube (\S+)$/, "the generator's fake API"))[1]!;
      await Deno.writeTextFile(`${dir}/kubeconfig`, kubeconfig(t.kubeUrl), { mode: 0o640 });
      await Deno.writeTextFile(`${dir}/backend-token`, "demo-token\n");
      // Like the host's /var/tmp the DaemonSet mounts: the agent creates its directory in it.
      await Deno.mkdir(`${dir}/var/lib/telemetry-log-agent`, { recursive: true });
      await Deno.chmod(`${dir}/var/lib/telemetry-log-agent`, 0o1777);
      await options.prepare?.(t);
      await t.startGateway();
      await t.startAgent();
      await t.command("start");
      return t;
    } catch (err) {
      if (t !== undefined) await t.stop();
      else {
        await end(generator);
        if (sink !== undefined) await end(sink);
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
      throw err;
    }
  }

  /** `--set` overrides shared by both collectors: the fake API through a kubeconfig. */
  #kubeSets(): string[] {
    return [
      "--set",
      "processors::k8sattributes::auth_type=kubeConfig",
      "--set",
      `processors::k8sattributes::kube_config_path=${this.dir}/kubeconfig`,
    ];
  }

  /** The gateway's command line after mod.ts. */
  gatewayArgs(): string[] {
    return [
      "--config",
      repoPath(GATEWAY_CONFIG),
      "--set",
      `receivers::otlp::protocols::http::endpoint=127.0.0.1:${this.gatewayPort}`,
      "--set",
      "extensions::health_check::endpoint=127.0.0.1:0",
      "--set",
      "service::telemetry::metrics::address=127.0.0.1:0",
      "--set",
      `extensions::bearertokenauth/backend::filename=${this.dir}/backend-token`,
      // The sink speaks plain HTTP: no private CA to trust.
      "--set",
      'exporters::otlp_http/backend::tls::ca_file=""',
      // The gateway's own logs stay on stderr (the manifest ships them to the backend).
      "--set",
      "service::telemetry::logs::processors=[]",
      ...this.#kubeSets(),
      ...this.options.gatewaySets ?? [],
    ];
  }

  /** The agent's command line after mod.ts. */
  agentArgs(): string[] {
    const pods = `${this.dir}/var/log/pods`;
    return [
      "--config",
      repoPath(AGENT_CONFIG),
      "--set",
      `receivers::filelog::include=[${pods}/*/*/*.log]`,
      "--set",
      `receivers::filelog::exclude=[${pods}/observability_otelcol-deno-agent-*/*/*.log]`,
      "--set",
      `extensions::file_storage::directory=${this.dir}/var/lib/telemetry-log-agent/file-log-receiver`,
      "--set",
      "extensions::health_check::endpoint=127.0.0.1:0",
      "--set",
      "service::telemetry::metrics::address=127.0.0.1:0",
      ...this.#kubeSets(),
    ];
  }

  /** The agent's environment, as the DaemonSet sets it. */
  agentEnv(): Record<string, string> {
    return {
      GATEWAY_ENDPOINT: `http://127.0.0.1:${this.gatewayPort}`,
      K8S_NODE_NAME: DEMO_NODE,
      K8S_POD_NAME: "otelcol-deno-agent-demo",
      K8S_POD_NAMESPACE: "observability",
    };
  }

  /** Starts the gateway and waits until it is ready. */
  async startGateway(): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        this.gateway = await this.#spawnGateway();
        return;
      } catch (err) {
        // A port found free can be taken before the gateway binds it: before the agent
        // knows the port, pick another.
        const taken = String(err).includes("Address already in use");
        if (!taken || this.agent !== undefined || attempt === 3) throw err;
        this.gatewayPort = freePort();
      }
    }
  }

  #spawnGateway(): Promise<CollectorProcess> {
    return CollectorProcess.spawn({
      args: this.gatewayArgs(),
      env: {
        BACKEND_ENDPOINT: this.sinkUrl,
        BACKEND_TOKEN: "demo-token",
        K8S_NODE_NAME: DEMO_NODE,
        K8S_POD_NAME: "otelcol-deno-gateway-demo",
        K8S_POD_NAMESPACE: "observability",
        ...this.options.gatewayEnv,
      },
      logFile: `${this.dir}/gateway.log`,
      detached: this.options.ownSessions,
    });
  }

  /** Starts the agent and waits until it is ready. */
  async startAgent(): Promise<void> {
    const logFile = `${this.dir}/agent.log`;
    if (this.options.agentCommand === undefined) {
      this.agent = await CollectorProcess.spawn({
        args: this.agentArgs(),
        env: this.agentEnv(),
        logFile,
        detached: this.options.ownSessions,
      });
      return;
    }
    const c = await this.options.agentCommand(this, this.agentArgs(), this.agentEnv());
    const child = new Deno.Command(c.cmd, {
      args: c.args,
      env: c.env,
      clearEnv: true,
      stdout: "null",
      stderr: "piped",
      detached: this.options.ownSessions,
    }).spawn();
    this.agent = new CollectorProcess(child, logFile);
    await this.agent.ready;
  }

  /** Sends a command to the generator and waits for its acknowledgement. */
  async command(cmd: "start" | "pause-rotation" | "resume-rotation" | "stop"): Promise<void> {
    await this.#generatorIn.write(new TextEncoder().encode(cmd + "\n"));
    await this.#generatorOut.next(new RegExp(`^ok ${cmd}$`), `the generator's ${cmd}`);
  }

  /** What the generator has written. */
  async written(): Promise<GeneratorStatus> {
    return JSON.parse(await Deno.readTextFile(`${this.dir}/generator.json`));
  }

  /** The sink's counters. */
  async stats(): Promise<SinkStats> {
    return await (await fetch(`${this.sinkUrl}/stats`)).json();
  }

  /** Makes the sink answer `status` to every export (0: answer normally again). */
  async sinkFails(status: number): Promise<void> {
    const path = status === 0 ? "/control/ok" : `/control/fail?status=${status}`;
    await (await fetch(`${this.sinkUrl}${path}`, { method: "POST" })).body?.cancel();
  }

  /** Which written lines never arrived. */
  async check(records: number[]): Promise<SinkCheck> {
    const r = await fetch(`${this.sinkUrl}/control/check`, {
      method: "POST",
      body: JSON.stringify({ records }),
    });
    return await r.json();
  }

  /**
   * Stops everything in order and removes the directory: the generator first, then the agent
   * while the gateway and the sink still run (so it hands over what it read), then the
   * gateway while the sink runs, then the sink. Each collector gets SIGTERM and `graceMs` to
   * drain before SIGKILL. `report` hears how each collector ended and, with the demo's sink,
   * how many of the written lines arrived.
   */
  async stop(
    o: { graceMs?: number; report?: (line: string) => void } = {},
  ): Promise<void> {
    const graceMs = o.graceMs ?? 20_000;
    await end(this.generator).catch(() => {});
    await this.#generatorIn.close().catch(() => {});
    for (const [name, c] of [["agent", this.agent], ["gateway", this.gateway]] as const) {
      if (c === undefined) continue;
      const t0 = performance.now();
      const status = await c.stop(graceMs).catch(() => undefined);
      const took = ((performance.now() - t0) / 1000).toFixed(1);
      o.report?.(`${name}: ${exitText(status, graceMs)} after ${took} s`);
    }
    if (this.sink !== undefined) {
      if (o.report !== undefined) {
        const [written, s] = await Promise.all([this.written(), this.stats()]).catch(() => []);
        if (written !== undefined && s !== undefined) {
          const n = written.records.reduce((a, b) => a + b, 0);
          // Not accepted yet (still in the files) or accepted and kept in the agent's queue.
          const unread = n > s.unique
            ? `; ${n - s.unique} were still in the log files or the agent's queue on disk`
            : "";
          o.report(
            `sink: ${s.unique} of the ${n} lines written arrived, ${s.duplicates} twice${unread}`,
          );
        }
      }
      await end(this.sink).catch(() => {});
    }
    await this.options.cleanup?.(this).catch(() => {});
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

function exitText(status: Deno.CommandStatus | undefined, graceMs: number): string {
  if (status === undefined) return "gone";
  if (status.signal === "SIGKILL") return `killed, not done within ${graceMs / 1000} s`;
  return status.signal !== null ? `ended by ${status.signal}` : `exit ${status.code}`;
}

function kubeconfig(server: string): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: demo
    cluster:
      server: ${server}
users:
  - name: demo
    user:
      token: demo
contexts:
  - name: demo
    context:
      cluster: demo
      user: demo
current-context: demo
`;
}
