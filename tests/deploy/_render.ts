/**
 * Renders the kustomizations under deploy/kubernetes with `kubectl kustomize` and validates
 * every object against the Kubernetes OpenAPI schemas (the `kubernetes-models` classes).
 *
 * @module
 */

import { parseAllDocuments } from "yaml";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";

/** The kustomizations a user applies, relative to deploy/kubernetes. */
export const KUSTOMIZATIONS = [".", "overlays/agent", "overlays/gateway", "overlays/audit"];

/** A rendered Kubernetes object (plain JSON). */
// deno-lint-ignore no-explicit-any
export type K8sObject = Record<string, any>;

interface Validatable {
  validate(): void;
}

/** The kinds the manifests may use, each with its schema-validating model class. */
// deno-lint-ignore no-explicit-any
const MODELS: Record<string, new (data: any) => Validatable> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/DaemonSet": DaemonSet,
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
};

/** Absolute path of deploy/kubernetes. */
export const DEPLOY_DIR = new URL("../../deploy/kubernetes/", import.meta.url).pathname;

/** The kubectl to render with: `$KUBECTL`, else `kubectl` from PATH; undefined when absent. */
export function findKubectl(): string | undefined {
  const bin = Deno.env.get("KUBECTL") ?? "kubectl";
  try {
    const out = new Deno.Command(bin, {
      args: ["version", "--client"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return out.success ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** Renders one kustomization (a directory relative to deploy/kubernetes) into objects. */
export function render(kubectl: string, dir: string): K8sObject[] {
  const out = new Deno.Command(kubectl, {
    args: ["kustomize", DEPLOY_DIR + dir],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!out.success) {
    throw new Error(`kubectl kustomize ${dir} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const docs = parseAllDocuments(new TextDecoder().decode(out.stdout));
  const objects: K8sObject[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) throw new Error(`${dir}: ${doc.errors[0]!.message}`);
    const obj = doc.toJS();
    if (obj !== null && obj !== undefined) objects.push(obj);
  }
  return objects;
}

/** `apiVersion/kind name` of an object, for messages. */
export function describe(obj: K8sObject): string {
  return `${obj.apiVersion}/${obj.kind} ${obj.metadata?.name}`;
}

/** Validates `obj` against its OpenAPI schema; throws naming the object and the problem. */
export function validateObject(obj: K8sObject): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (Model === undefined) {
    throw new Error(`${describe(obj)}: no schema known for this kind (add it to MODELS)`);
  }
  try {
    new Model(obj).validate();
  } catch (err) {
    throw new Error(`${describe(obj)}: ${(err as Error).message}`);
  }
}

/** The pod spec of a workload, or undefined for other kinds. */
export function podSpec(obj: K8sObject): K8sObject | undefined {
  return ["DaemonSet", "Deployment", "StatefulSet", "Job"].includes(obj.kind)
    ? obj.spec?.template?.spec
    : undefined;
}

/** The ConfigMap a workload's collector config comes from, parsed; with its file name. */
export function collectorConfigOf(
  objects: readonly K8sObject[],
  workload: K8sObject,
): { file: string; text: string } {
  const spec = podSpec(workload)!;
  const container = spec.containers[0];
  const configArg: string = container.args[container.args.indexOf("--config") + 1];
  const mount = container.volumeMounts.find((m: K8sObject) =>
    configArg.startsWith(m.mountPath + "/")
  );
  const volume = spec.volumes.find((v: K8sObject) => v.name === mount.name);
  const cm = objects.find((o) =>
    o.kind === "ConfigMap" && o.metadata.name === volume.configMap.name
  );
  const file = configArg.slice(mount.mountPath.length + 1);
  return { file, text: cm!.data[file] };
}
