import assert from "node:assert/strict";
import { formatFlags, minimize, permissionNeeds } from "./needs.ts";
import { globBase } from "./builder.ts";

async function needsOf(yaml: string, env: Record<string, string> = {}) {
  return await permissionNeeds({ uris: [`yaml:${yaml}`], env: (n) => env[n] });
}

Deno.test("globBase: the directory a glob starts from; a plain file's directory", () => {
  assert.equal(globBase("/var/log/pods/*/*/*.log"), "/var/log/pods");
  assert.equal(globBase("/var/log/pods/ns_*_uid/c/0.log"), "/var/log/pods");
  assert.equal(globBase("/var/log/**/x.log"), "/var/log");
  assert.equal(globBase("/var/log/kubernetes/audit/audit.log"), "/var/log/kubernetes/audit");
  assert.equal(globBase("/*.log"), "/");
});

Deno.test("minimize: one entry per value, paths inside another path dropped, required wins", () => {
  const out = minimize([
    { kind: "read", value: "/a/b", key: "x" },
    { kind: "read", value: "/a", key: "y", optional: true },
    { kind: "read", value: "/a", key: "z" },
    { kind: "read", value: "/ab", key: "w" },
    { kind: "write", value: "/a/b", key: "v" },
  ]);
  assert.deepEqual(out.map((n) => `${n.kind} ${n.value} ${n.key}`), [
    "read /a z",
    "read /ab w",
    "write /a/b v",
  ]);
});

Deno.test("permissionNeeds: the node agent's config, key by key", async () => {
  const { needs, problems } = await needsOf(
    `
extensions:
  file_storage: {directory: /var/lib/telemetry-log-agent/file-log-receiver, create_directory: true}
  health_check: {endpoint: "0.0.0.0:13133"}
  bearertokenauth: {filename: /var/run/secrets/token}
receivers:
  filelog: {include: [/var/log/pods/*/*/*.log], storage: file_storage}
processors:
  k8sattributes: {filter: {node_from_env_var: K8S_NODE_NAME}}
  memory_limiter: {check_interval: 1s, limit_mib: 300}
exporters:
  otlp_http:
    endpoint: \${env:GATEWAY_ENDPOINT}
    tls: {ca_file: /etc/ca/ca.crt}
service:
  telemetry:
    metrics: {address: "0.0.0.0:8888"}
    logs:
      processors:
        - batch: {exporter: {otlp: {protocol: http/protobuf, endpoint: "https://logs.example:4318/v1/logs", certificate: /etc/ca/ca.crt}}}
`,
    {
      GATEWAY_ENDPOINT: "http://gateway:4318",
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
      KUBERNETES_SERVICE_PORT: "443",
      HTTPS_PROXY: "http://proxy.corp:3128",
    },
  );
  assert.deepEqual(problems, []);
  const flags = formatFlags(needs);
  assert.deepEqual(flags.slice(0, 3), [
    "--allow-read=/etc/ca/ca.crt,/var/lib/telemetry-log-agent,/var/log/pods," +
    "/var/run/secrets/kubernetes.io/serviceaccount,/var/run/secrets/token",
    "--allow-write=/var/lib/telemetry-log-agent",
    "--allow-net=0.0.0.0:13133,0.0.0.0:8888,10.0.0.1:443,gateway:4318,logs.example:4318," +
    "proxy.corp:3128",
  ]);
  const env = flags[3]!.slice("--allow-env=".length).split(",");
  for (
    const v of ["GATEWAY_ENDPOINT", "K8S_NODE_NAME", "KUBERNETES_SERVICE_HOST", "HTTPS_PROXY"]
  ) {
    assert.ok(env.includes(v), v);
  }
  assert.equal(flags[4], "--allow-sys=gid,uid");
  const key = (value: string) => needs.find((n) => n.value === value)?.key;
  assert.equal(key("/var/log/pods"), "receivers::filelog::include");
  assert.equal(key("gateway:4318"), "exporters::otlp_http::endpoint");
  assert.equal(key("proxy.corp:3128"), "exporters::otlp_http (HTTPS_PROXY)");
  assert.equal(key("K8S_NODE_NAME"), "processors::k8sattributes::filter::node_from_env_var");
  assert.equal(
    key("logs.example:4318"),
    "service::telemetry::logs::processors::0::batch::exporter::otlp::endpoint",
  );
});

Deno.test("permissionNeeds: what it cannot tell is reported, not guessed", async () => {
  const { problems, needs } = await needsOf(`
receivers:
  otlp: {protocols: {http: {}}}
  journald: {}
processors:
  k8sattributes: {}
  memory_limiter: {limit_percentage: 80}
exporters:
  otlp_http: {endpoint: "\${env:UNSET}"}
service: {telemetry: {metrics: {level: none}}}
`);
  assert.deepEqual(problems.map((p) => p.split(": ")[0]), [
    "receivers::journald",
    "processors::k8sattributes",
    "processors::memory_limiter::limit_percentage",
    "exporters::otlp_http::endpoint",
  ]);
  assert.ok(needs.some((n) => n.value === "localhost:4318"), "the receiver's default endpoint");
  assert.ok(!needs.some((n) => n.value === "localhost:8888"), "no metrics endpoint at level none");
  assert.ok(needs.some((n) => n.kind === "env" && n.value === "UNSET"));
});

Deno.test("permissionNeeds: passthrough k8sattributes and proxy_url need no API or proxy env", async () => {
  const { needs, problems } = await needsOf(`
processors:
  k8sattributes: {passthrough: true}
exporters:
  otlp_http: {endpoint: "https://b.example", proxy_url: "http://p:8080"}
`);
  assert.deepEqual(problems, []);
  assert.deepEqual(needs.filter((n) => n.kind === "net").map((n) => n.value), [
    "b.example:443",
    "localhost:8888",
    "p:8080",
  ]);
  assert.ok(!needs.some((n) => n.value.startsWith("KUBERNETES") || n.value === "HTTPS_PROXY"));
});

Deno.test("permissionNeeds: kubeConfig reads kube_config_path when set, else $KUBECONFIG", async () => {
  const set = await needsOf(
    `processors: {k8sattributes: {auth_type: kubeConfig, kube_config_path: /etc/kube/demo.yaml}}`,
    { KUBECONFIG: "/elsewhere/config", HOME: "/home/u" },
  );
  assert.deepEqual(set.needs.filter((n) => n.kind === "read").map((n) => n.value), [
    "/etc/kube/demo.yaml",
  ]);
  assert.ok(set.problems.some((p) => p.includes("/etc/kube/demo.yaml")));
  const unset = await needsOf(`processors: {k8sattributes: {auth_type: kubeConfig}}`, {
    KUBECONFIG: "/elsewhere/config",
  });
  assert.deepEqual(unset.needs.filter((n) => n.kind === "read").map((n) => n.value), [
    "/elsewhere/config",
  ]);
});

Deno.test("permissionNeeds: every built-in component type has rules", async () => {
  const { BUILTIN_FACTORIES } = await import("../../components.ts");
  const yaml: Record<string, Record<string, unknown>> = {};
  for (const f of BUILTIN_FACTORIES) {
    const section = `${f.kind}s`;
    for (const t of [f.type, ...(f.aliases ?? [])]) (yaml[section] ??= {})[t] = {};
  }
  const { problems } = await needsOf(JSON.stringify(yaml), {
    KUBERNETES_SERVICE_HOST: "k",
    KUBERNETES_SERVICE_PORT: "443",
  });
  assert.deepEqual(problems.filter((p) => p.includes("no permission rules")), []);
});

Deno.test("permissionNeeds: config files are read from their directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/c.yaml`, "exporters: {debug: {}}\n");
    const { needs } = await permissionNeeds({ uris: [`${dir}/c.yaml`], env: () => undefined });
    assert.deepEqual(needs.filter((n) => n.key === "--config").map((n) => n.value), [dir]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
