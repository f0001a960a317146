/**
 * Per-component permission rules, keyed by upstream type (and older alias). They read the
 * loaded config tree, so they work for components whose config is not valid yet and never
 * import a component (core imports no component).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import type { ConfigNode } from "../config/node.ts";
import { at, entries, globBase, type NeedsBuilder, str } from "./builder.ts";

type Rule = (b: NeedsBuilder, cfg: ConfigNode | undefined, key: string) => void;

/** Where the in-cluster service-account token and CA are mounted. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The variables the HTTP clients read to find a proxy (both cases, as Go and Deno do). */
const PROXY_VARIABLES = [
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "NO_PROXY",
  "no_proxy",
];

function tlsFiles(b: NeedsBuilder, cfg: ConfigNode | undefined, key: string): void {
  for (const k of ["ca_file", "cert_file", "key_file", "client_ca_file"]) {
    const file = str(cfg, "tls", k);
    if (file) b.read(file, `${key}::tls::${k}`);
  }
}

function proxies(b: NeedsBuilder, key: string): void {
  for (const name of PROXY_VARIABLES) b.add("env", name, `${key} (proxy from the environment)`);
  for (const name of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]) {
    const value = b.env(name);
    if (value) b.url(value, `${key} (${name})`);
  }
}

const otlpHttpExporter: Rule = (b, cfg, key) => {
  const logs = str(cfg, "logs_endpoint");
  const endpoint = str(cfg, "endpoint");
  if (logs) b.url(logs, `${key}::logs_endpoint`);
  else if (endpoint !== undefined) b.url(endpoint, `${key}::endpoint`);
  const proxy = str(cfg, "proxy_url");
  if (proxy) b.url(proxy, `${key}::proxy_url`);
  else proxies(b, key);
  tlsFiles(b, cfg, key);
};

const otlpReceiver: Rule = (b, cfg, key) => {
  const defaults: Record<string, string> = { http: "localhost:4318", grpc: "localhost:4317" };
  for (const [protocol, p] of entries(at(cfg, "protocols"))) {
    const k = `${key}::protocols::${protocol}`;
    b.endpoint(str(p, "endpoint") ?? defaults[protocol] ?? "", `${k}::endpoint`);
    tlsFiles(b, p, k);
  }
};

const filelog: Rule = (b, cfg, key) => {
  const include = at(cfg, "include");
  for (const item of include?.type === "seq" ? include.items : []) {
    if (item.type === "scalar" && item.value) {
      b.read(globBase(String(item.value)), `${key}::include`);
    }
  }
};

const fileStorage: Rule = (b, cfg, key) => {
  const dir = str(cfg, "directory") ?? "/var/lib/otelcol/file_storage";
  // Creating the directory (and reporting on its parent when that fails) needs the parent.
  const create = str(cfg, "create_directory") === "true";
  b.readWrite(create ? dirname(resolve(dir)) : dir, `${key}::directory`);
  const compaction = str(cfg, "compaction", "directory");
  if (compaction) b.readWrite(compaction, `${key}::compaction::directory`);
  b.add("sys", "uid", `${key} (error messages name the process' uid/gid)`, true);
  b.add("sys", "gid", `${key} (error messages name the process' uid/gid)`, true);
};

const bearerTokenAuth: Rule = (b, cfg, key) => {
  const file = str(cfg, "filename");
  if (file) b.read(file, `${key}::filename`);
};

const healthCheck: Rule = (b, cfg, key) => {
  b.endpoint(str(cfg, "endpoint") ?? "localhost:13133", `${key}::endpoint`);
};

const memoryLimiter: Rule = (b, cfg, key) => {
  if (Number(str(cfg, "limit_mib") ?? 0) > 0) return;
  // A percentage of the container's limit (cgroup files) or of the machine's memory.
  b.add("sys", "systemMemoryInfo", `${key}::limit_percentage`);
  b.problems.push(
    `${key}::limit_percentage: Deno lets only --allow-all read the cgroup memory limit in ` +
      "/sys/fs/cgroup, so under allow-lists the percentage is of the machine's memory: " +
      "set limit_mib instead",
  );
};

const k8sAttributes: Rule = (b, cfg, key) => {
  if (str(cfg, "passthrough") === "true") return;
  const node = str(cfg, "filter", "node_from_env_var");
  if (node) b.add("env", node, `${key}::filter::node_from_env_var`);
  const auth = str(cfg, "auth_type") ?? "serviceAccount";
  if (auth === "kubeConfig") {
    const configured = str(cfg, "kube_config_path");
    if (configured) b.read(configured, `${key}::kube_config_path`);
    else {
      b.add("env", "KUBECONFIG", `${key}::auth_type`);
      b.add("env", "HOME", `${key}::auth_type`);
    }
    const path = configured ||
      b.env("KUBECONFIG")?.split(":")[0] || `${b.env("HOME") ?? ""}/.kube/config`;
    if (!configured) b.read(path, `${key}::auth_type`);
    b.problems.push(
      `${key}::auth_type: kubeConfig: add the API server named in ${path} to --allow-net`,
    );
    return;
  }
  for (const name of ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"]) {
    b.add("env", name, `${key} (the Kubernetes API)`);
  }
  const host = b.env("KUBERNETES_SERVICE_HOST");
  const port = b.env("KUBERNETES_SERVICE_PORT");
  if (host && port) {
    b.add(
      "net",
      `${host.includes(":") ? `[${host}]` : host}:${port}`,
      `${key} (the Kubernetes API)`,
    );
  } else {
    b.problems.push(
      `${key}: the Kubernetes API's address comes from KUBERNETES_SERVICE_HOST and ` +
        "KUBERNETES_SERVICE_PORT, unset here: set them as the pod will have them",
    );
  }
  if (auth === "serviceAccount") b.read(SERVICE_ACCOUNT_DIR, `${key}::auth_type`);
};

const NONE: Rule = () => {};

/** The OTEL_EXPORTER_OTLP_[LOGS_]* settings the JS SDK's exporter reads. */
const OTEL_EXPORTER_SETTINGS = [
  "ENDPOINT",
  "HEADERS",
  "TIMEOUT",
  "COMPRESSION",
  "CERTIFICATE",
  "CLIENT_CERTIFICATE",
  "CLIENT_KEY",
];

const RULES: Record<string, Record<string, Rule>> = {
  receivers: { otlp: otlpReceiver, filelog, file_log: filelog },
  processors: {
    // No file, network or environment access of their own.
    batch: NONE,
    filter: NONE,
    attributes: NONE,
    resource: NONE,
    memory_limiter: memoryLimiter,
    k8sattributes: k8sAttributes,
    k8s_attributes: k8sAttributes,
  },
  exporters: { otlp_http: otlpHttpExporter, otlphttp: otlpHttpExporter, debug: NONE },
  extensions: {
    file_storage: fileStorage,
    bearertokenauth: bearerTokenAuth,
    health_check: healthCheck,
    healthcheck: healthCheck,
    headers_setter: NONE,
  },
  connectors: { routing: NONE, forward: NONE },
};

/** The collector's own telemetry: the metrics endpoint and the own-logs OTLP exporters. */
function telemetryNeeds(b: NeedsBuilder, telemetry: ConfigNode | undefined): void {
  const key = "service::telemetry";
  const level = str(telemetry, "metrics", "level") ?? "normal";
  if (level !== "none") {
    const readers = at(telemetry, "metrics", "readers");
    const prom = at(readers, "0", "pull", "exporter", "prometheus");
    const address = prom !== undefined
      ? `${str(prom, "host") ?? "localhost"}:${str(prom, "port") ?? "8888"}`
      : str(telemetry, "metrics", "address") ?? "localhost:8888";
    b.endpoint(address, `${key}::metrics`);
  }
  const processors = at(telemetry, "logs", "processors");
  if (processors?.type === "seq" && processors.items.length > 0) {
    // The SDK's OTLP exporter reads its environment settings whatever the config says.
    for (const scope of ["", "LOGS_"]) {
      for (const k of OTEL_EXPORTER_SETTINGS) {
        b.add("env", `OTEL_EXPORTER_OTLP_${scope}${k}`, `${key}::logs::processors (the SDK)`);
      }
    }
  }
  for (const [i, p] of (processors?.type === "seq" ? processors.items : []).entries()) {
    for (const [kind, proc] of entries(p)) {
      const k = `${key}::logs::processors::${i}::${kind}::exporter::otlp`;
      const otlp = at(proc, "exporter", "otlp");
      const endpoint = str(otlp, "endpoint");
      if (endpoint) b.url(endpoint, `${k}::endpoint`);
      const ca = str(otlp, "certificate");
      if (ca) b.read(ca, `${k}::certificate`);
    }
  }
}

/** Adds the needs of every configured component and of the service section to `b`. */
export function componentNeeds(root: ConfigNode | undefined, b: NeedsBuilder): void {
  for (const [section, rules] of Object.entries(RULES)) {
    for (const [id, cfg] of entries(at(root, section))) {
      const type = id.split("/")[0]!;
      const rule = rules[type];
      if (rule === undefined) {
        b.problems.push(`${section}::${id}: no permission rules for type "${type}"; add its needs`);
      } else {
        rule(b, cfg, `${section}::${id}`);
      }
    }
  }
  telemetryNeeds(b, at(root, "service", "telemetry"));
}
