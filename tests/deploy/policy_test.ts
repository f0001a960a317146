/**
 * Least-privilege policy on the rendered manifests: the hardened securityContext on every
 * container, host mounts read-only except the agents' state directory, nothing privileged,
 * RBAC no wider than get/list/watch on exactly what k8sattributes needs, NetworkPolicies for
 * every workload, the V8 heap inside the memory limit, Secrets only as files.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  collectorConfigOf,
  describe,
  findKubectl,
  type K8sObject,
  KUSTOMIZATIONS,
  podSpec,
  render,
} from "./_render.ts";
import { k8sattributesResources } from "./_rbac.ts";

const kubectl = findKubectl();
const all: K8sObject[] = [];
if (kubectl !== undefined) {
  const seen = new Set<string>();
  for (const dir of KUSTOMIZATIONS) {
    for (const obj of render(kubectl, dir)) {
      const key = `${describe(obj)} ${obj.metadata.namespace ?? ""}`;
      if (!seen.has(key)) all.push(obj);
      seen.add(key);
    }
  }
}
const workloads = all.filter((o) => podSpec(o) !== undefined);
const test = (name: string, fn: () => void) =>
  Deno.test({ name: `deploy policy: ${name}`, ignore: kubectl === undefined, fn });

/** The one securityContext every container runs with (the decision record). */
const HARDENED = {
  runAsUser: 1000,
  runAsGroup: 0,
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** The one host path an agent may write: the host's /var/tmp, at the agent's state dir. */
const STATE_MOUNT = { hostPath: "/var/tmp", mountPath: "/var/lib/telemetry-log-agent" };

test("the three workloads are there", () => {
  assert.deepEqual(workloads.map(describe).sort(), [
    "apps/v1/DaemonSet otelcol-deno-agent",
    "apps/v1/DaemonSet otelcol-deno-audit",
    "apps/v1/Deployment otelcol-deno-gateway",
  ]);
});

test("every container has the hardened securityContext; no host namespaces", () => {
  for (const w of workloads) {
    const spec = podSpec(w)!;
    for (const flag of ["hostNetwork", "hostPID", "hostIPC"]) {
      assert.notEqual(spec[flag], true, `${describe(w)}: ${flag}`);
    }
    assert.equal(spec.securityContext?.runAsNonRoot, true, `${describe(w)}: pod runAsNonRoot`);
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      assert.deepEqual(c.securityContext, HARDENED, `${describe(w)} container ${c.name}`);
    }
  }
});

test("host mounts are read-only, except /var/tmp at the agents' state directory", () => {
  for (const w of workloads) {
    const spec = podSpec(w)!;
    const hostPaths = new Map<string, K8sObject>(
      spec.volumes.filter((v: K8sObject) => v.hostPath).map((v: K8sObject) => [v.name, v]),
    );
    for (const c of spec.containers) {
      for (const m of c.volumeMounts ?? []) {
        const v = hostPaths.get(m.name);
        if (v === undefined || m.readOnly === true) continue;
        assert.deepEqual(
          { hostPath: v.hostPath.path, mountPath: m.mountPath, type: v.hostPath.type },
          { ...STATE_MOUNT, type: "DirectoryOrCreate" },
          `${describe(w)}: writable host mount ${m.name}`,
        );
      }
    }
  }
});

test("the agents keep state in a directory they create inside the /var/tmp mount", () => {
  for (const w of workloads.filter((o) => o.kind === "DaemonSet")) {
    const config = parse(collectorConfigOf(all, w).text);
    const storage = Object.entries<K8sObject>(config.extensions)
      .filter(([id]) => id.split("/")[0] === "file_storage");
    assert.equal(storage.length, 1, describe(w));
    const [, fs] = storage[0]!;
    assert.equal(fs.create_directory, true, `${describe(w)}: file_storage::create_directory`);
    assert.ok(
      fs.directory.startsWith(STATE_MOUNT.mountPath + "/"),
      `${describe(w)}: ${fs.directory} is inside the state mount`,
    );
  }
  const agent = workloads.find((w) => w.metadata.name === "otelcol-deno-agent")!;
  const config = parse(collectorConfigOf(all, agent).text);
  assert.equal(
    config.extensions.file_storage.directory,
    "/var/lib/telemetry-log-agent/file-log-receiver",
  );
});

test("RBAC verbs are get/list/watch only, on no wildcard", () => {
  const roles = all.filter((o) => o.kind === "ClusterRole" || o.kind === "Role");
  assert.ok(roles.length > 0);
  for (const role of roles) {
    for (const rule of role.rules) {
      for (const verb of rule.verbs) {
        assert.ok(["get", "list", "watch"].includes(verb), `${describe(role)}: verb ${verb}`);
      }
      for (const list of [rule.resources, rule.apiGroups]) {
        assert.ok(!list.includes("*"), `${describe(role)}: wildcard`);
      }
      assert.equal(rule.resourceNames, undefined);
      assert.equal(rule.nonResourceURLs, undefined);
    }
  }
});

test("each ServiceAccount's role grants exactly what its config's k8sattributes needs", () => {
  for (const w of workloads) {
    const spec = podSpec(w)!;
    const config = parse(collectorConfigOf(all, w).text);
    const needed = new Set<string>();
    for (const [id, cfg] of Object.entries<K8sObject>(config.processors ?? {})) {
      if (["k8sattributes", "k8s_attributes"].includes(id.split("/")[0]!)) {
        for (const r of k8sattributesResources(cfg ?? {})) needed.add(r);
      }
    }
    const bindings = all.filter((o) =>
      (o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding") &&
      o.subjects.some((s: K8sObject) =>
        s.kind === "ServiceAccount" && s.name === spec.serviceAccountName &&
        s.namespace === w.metadata.namespace
      )
    );
    const granted = new Set<string>();
    for (const b of bindings) {
      const role = all.find((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name);
      assert.ok(role, `${describe(b)} names a role that exists`);
      for (const rule of role.rules) {
        for (const g of rule.apiGroups) for (const r of rule.resources) granted.add(`${g}/${r}`);
      }
    }
    assert.deepEqual([...granted].sort(), [...needed].sort(), describe(w));
    if (needed.size === 0) {
      assert.equal(spec.automountServiceAccountToken, false, `${describe(w)}: no API token`);
    }
  }
});

test("the agent's k8sattributes watches only its own node's pods", () => {
  const agent = workloads.find((w) => w.metadata.name === "otelcol-deno-agent")!;
  const config = parse(collectorConfigOf(all, agent).text);
  const k8s = config.processors.k8sattributes;
  const envName = k8s.filter.node_from_env_var;
  const env = podSpec(agent)!.containers[0].env.find((e: K8sObject) => e.name === envName);
  assert.equal(env?.valueFrom?.fieldRef?.fieldPath, "spec.nodeName");
  assert.ok(k8s.extract.metadata.includes("k8s.pod.ip"), "the gateway can associate by IP");
});

test("every workload has a NetworkPolicy limiting ingress and egress", () => {
  const policies = all.filter((o) => o.kind === "NetworkPolicy");
  for (const w of workloads) {
    const labels = w.spec.template.metadata.labels;
    const mine = policies.filter((p) =>
      Object.entries(p.spec.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v)
    );
    assert.equal(mine.length, 1, `${describe(w)}: one NetworkPolicy`);
    const p = mine[0]!;
    assert.deepEqual([...p.spec.policyTypes].sort(), ["Egress", "Ingress"]);
    const ports = (rules: K8sObject[]) =>
      rules.flatMap((r) => (r.ports ?? []).map((x: K8sObject) => x.port)).sort();
    // Only the metrics port is open to anyone; every other ingress names its peers.
    for (const rule of p.spec.ingress) {
      if (rule.from === undefined) assert.deepEqual(ports([rule]), [8888], describe(p));
    }
    // DNS, and no egress rule without ports (which would open every port).
    assert.ok(ports(p.spec.egress).includes(53), `${describe(p)}: DNS`);
    for (const rule of p.spec.egress) assert.ok(rule.ports?.length > 0, describe(p));
  }
  const gateway = policies.find((p) => p.metadata.name === "otelcol-deno-gateway")!;
  const otlp = gateway.spec.ingress.find((r: K8sObject) =>
    r.ports.some((x: K8sObject) => x.port === 4318)
  );
  assert.equal(otlp.from.length, 1, "OTLP only from the agents");
  assert.equal(otlp.from[0].namespaceSelector, undefined, "from this namespace only");
  assert.equal(
    otlp.from[0].podSelector.matchLabels["app.kubernetes.io/name"],
    "otelcol-deno-agent",
  );
  const agent = policies.find((p) => p.metadata.name === "otelcol-deno-agent")!;
  const toGateway = agent.spec.egress.find((r: K8sObject) => r.to?.[0]?.podSelector);
  assert.deepEqual(toGateway.ports, [{ port: 4318, protocol: "TCP" }]);
});

test("the V8 heap limit stays within 80 % of the container's memory limit", () => {
  const mib = (q: string): number => {
    const m = /^(\d+)(Mi|Gi)$/.exec(q);
    assert.ok(m, `memory limit ${q} in Mi or Gi`);
    return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
  };
  for (const w of workloads) {
    for (const c of podSpec(w)!.containers) {
      const flags = c.env.find((e: K8sObject) => e.name === "DENO_V8_FLAGS")?.value ?? "";
      const heap = /--max-old-space-size=(\d+)/.exec(flags);
      assert.ok(heap, `${describe(w)}: DENO_V8_FLAGS sets --max-old-space-size`);
      const limit = mib(c.resources.limits.memory);
      assert.ok(Number(heap[1]) <= limit * 0.8, `${describe(w)}: heap ${heap[1]} of ${limit} MiB`);
      // memory_limiter refuses data before V8 runs out of heap.
      const config = parse(collectorConfigOf(all, w).text);
      const limiter = config.processors?.memory_limiter;
      if (limiter !== undefined) {
        assert.ok(limiter.limit_mib > 0, `${describe(w)}: limit_mib (cgroups unreadable)`);
        assert.ok(limiter.limit_mib < Number(heap[1]), `${describe(w)}: limit_mib below heap`);
      }
      assert.ok(c.resources.requests.cpu && c.resources.requests.memory, describe(w));
    }
  }
});

test("probes use the health_check extension's port", () => {
  for (const w of workloads) {
    const c = podSpec(w)!.containers[0];
    const config = parse(collectorConfigOf(all, w).text);
    const endpoint: string = config.extensions.health_check.endpoint;
    const port = Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
    const health = c.ports.find((p: K8sObject) => p.name === c.livenessProbe.httpGet.port);
    assert.equal(health.containerPort, port, describe(w));
    assert.equal(c.readinessProbe.httpGet.port, c.livenessProbe.httpGet.port);
    assert.ok(config.service.extensions.includes("health_check"), describe(w));
  }
});

test("tokens come from Secret files, the backend CA from a mounted ConfigMap", () => {
  for (const w of workloads) {
    const spec = podSpec(w)!;
    const { text } = collectorConfigOf(all, w);
    const config = parse(text);
    const mountOf = (path: string): K8sObject | undefined => {
      const m = spec.containers[0].volumeMounts.find((x: K8sObject) =>
        path.startsWith(x.mountPath + "/")
      );
      return spec.volumes.find((v: K8sObject) => v.name === m?.name);
    };
    for (const [id, ext] of Object.entries<K8sObject>(config.extensions ?? {})) {
      if (id.split("/")[0] !== "bearertokenauth") continue;
      assert.equal(ext.token, undefined, `${describe(w)}: ${id} has no inline token`);
      assert.ok(mountOf(ext.filename)?.secret, `${describe(w)}: ${id}::filename is a Secret`);
    }
    for (const [id, exp] of Object.entries<K8sObject>(config.exporters ?? {})) {
      if (exp?.tls?.ca_file) {
        assert.ok(mountOf(exp.tls.ca_file)?.configMap, `${describe(w)}: ${id}::tls::ca_file`);
      }
    }
  }
  for (const cm of all.filter((o) => o.kind === "ConfigMap")) {
    for (const text of Object.values<string>(cm.data ?? {})) {
      assert.doesNotMatch(text, /^\s*token:\s*[^$\s]/m, `${describe(cm)} holds no token`);
    }
  }
});
