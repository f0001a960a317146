/**
 * The demo's cluster: which pods run on the demo node, their owners, labels and images, and
 * the resource attributes a record of each pod must carry once the agent and the gateway
 * enriched it. The generator writes these pods' logs and serves them from the fake
 * Kubernetes API; the sink checks arriving records against them.
 *
 * @module
 */

import { type KObject, podFixture } from "../tests/fakes/kube_api.ts";

/** The node every demo pod runs on (the agent's `K8S_NODE_NAME`). */
export const DEMO_NODE = "demo-node";
/** The kube-system namespace's uid: the gateway's `k8s.cluster.uid`. */
export const CLUSTER_UID = "6f1c2a3e-demo-4c1d-9e55-c1a55e7d0001";
/** Line ids of pod `i` start at `i * ID_STRIDE` (`id=<n>` in every message). */
export const ID_STRIDE = 100_000_000;

/** One pod of the demo. */
export interface DemoPod {
  index: number;
  namespace: string;
  name: string;
  uid: string;
  container: string;
  image: string;
  ownerKind: "ReplicaSet" | "StatefulSet";
  /** The ReplicaSet's or StatefulSet's name. */
  ownerName: string;
  /** The Deployment's name (ReplicaSet owners only). */
  deployment?: string;
  labels: Record<string, string>;
  /** The pod's log directory below `var/log/pods`. */
  logDir: string;
}

const SPECS: [string, string, string, string, "deploy" | "sts", number][] = [
  // namespace, app, image, version, owner, replicas
  ["shop", "checkout", "registry.example.com/shop/checkout", "2.3.1", "deploy", 2],
  ["shop", "cart", "registry.example.com/shop/cart", "1.9.0", "deploy", 1],
  ["payments", "payments-api", "registry.example.com/payments/api", "4.0.2", "deploy", 2],
  ["payments", "ledger-db", "docker.io/library/postgres", "16.4", "sts", 1],
  ["search", "indexer", "ghcr.io/example/indexer", "0.8.5", "deploy", 1],
];

/** The demo's pods (the same on every call). */
export function demoPods(): DemoPod[] {
  const pods: DemoPod[] = [];
  for (const [s, [namespace, app, image, version, owner, replicas]] of SPECS.entries()) {
    // One ReplicaSet per Deployment; its name ends with the pods' pod-template-hash label.
    const hash = `${(10 + s).toString(36)}7f9d${s}c5b`;
    const ownerName = owner === "deploy" ? `${app}-${hash}` : app;
    for (let r = 0; r < replicas; r++) {
      const index = pods.length;
      const name = owner === "deploy"
        ? `${ownerName}-${(1e4 + index * 7919).toString(36)}`
        : `${app}-${r}`;
      const uid = `d3e0${index.toString(16).padStart(4, "0")}-4a0e-4c1b-9f2e-${
        (s * 0x1000 + r).toString(16).padStart(12, "0")
      }`;
      const labels: Record<string, string> = {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/version": version,
      };
      if (owner === "deploy") labels["pod-template-hash"] = hash;
      pods.push({
        index,
        namespace,
        name,
        uid,
        container: app.split("-")[0]!,
        image: `${image}:${version}`,
        ownerKind: owner === "deploy" ? "ReplicaSet" : "StatefulSet",
        ownerName,
        deployment: owner === "deploy" ? app : undefined,
        labels,
        logDir: `${namespace}_${name}_${uid}/${app.split("-")[0]!}`,
      });
    }
  }
  return pods;
}

/** The pod as the API server returns it. */
export function podObject(p: DemoPod): KObject {
  return podFixture({
    name: p.name,
    namespace: p.namespace,
    uid: p.uid,
    node: DEMO_NODE,
    ip: `10.244.0.${10 + p.index}`,
    ownerKind: p.ownerKind,
    ownerName: p.ownerName,
    labels: p.labels,
    containers: [[p.container, p.image]],
  });
}

/** The namespaces the API serves (kube-system carries the cluster uid). */
export function namespaceObjects(pods: DemoPod[]): KObject[] {
  const names = new Set(["kube-system", ...pods.map((p) => p.namespace)]);
  return [...names].map((name) => ({
    kind: "Namespace",
    apiVersion: "v1",
    metadata: {
      name,
      uid: name === "kube-system" ? CLUSTER_UID : `ns-${name}`,
      creationTimestamp: "2026-11-01T00:00:00Z",
    },
  }));
}

/** Resource attributes every record of the pod carries after the agent and the gateway. */
export function expectedAttributes(p: DemoPod): Record<string, string> {
  const [imageName, tag] = [
    p.image.slice(0, p.image.lastIndexOf(":")),
    p.image.slice(p.image.lastIndexOf(":") + 1),
  ];
  const out: Record<string, string> = {
    "k8s.namespace.name": p.namespace,
    "k8s.pod.name": p.name,
    "k8s.pod.uid": p.uid,
    "k8s.container.name": p.container,
    "k8s.node.name": DEMO_NODE,
    "service.name": p.labels["app.kubernetes.io/name"]!,
    "service.version": p.labels["app.kubernetes.io/version"]!,
    "container.image.name": imageName,
    "container.image.tag": tag,
    "k8s.cluster.uid": CLUSTER_UID,
  };
  if (p.deployment !== undefined) {
    out["k8s.deployment.name"] = p.deployment;
    out["k8s.replicaset.name"] = p.ownerName;
  } else out["k8s.statefulset.name"] = p.ownerName;
  return out;
}
