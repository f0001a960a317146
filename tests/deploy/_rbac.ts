/**
 * What RBAC a k8sattributes config needs, written from upstream's informer table (which
 * informers start for which metadata and rules); rbac_test.ts checks it against the
 * processor's own informer plans.
 *
 * @module
 */

import type { K8sObject } from "./_render.ts";

/** The resources k8sattributes lists and watches for `cfg` (upstream's informers). */
export function k8sattributesResources(cfg: K8sObject): string[] {
  if (cfg.passthrough === true) return [];
  const metadata: string[] = cfg.extract?.metadata ?? [
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.pod.uid",
    "k8s.pod.start_time",
    "k8s.deployment.name",
    "k8s.node.name",
  ];
  const rules: K8sObject[] = [...(cfg.extract?.labels ?? []), ...(cfg.extract?.annotations ?? [])];
  const from = (kind: string) => rules.some((r) => (r.from ?? "pod") === kind);
  const out = new Set(["/pods"]);
  if (metadata.includes("k8s.cluster.uid") || from("namespace")) out.add("/namespaces");
  if (metadata.includes("k8s.node.uid") || from("node")) out.add("/nodes");
  // The Deployment's name comes from the pod-template-hash label; its uid needs ReplicaSets.
  if (metadata.includes("k8s.deployment.uid")) out.add("apps/replicasets");
  if (metadata.includes("k8s.cronjob.uid") || from("job")) out.add("batch/jobs");
  for (const kind of ["deployment", "statefulset", "daemonset"]) {
    if (from(kind)) out.add(`apps/${kind}s`);
  }
  return [...out].sort();
}
