/**
 * Config of the `k8sattributes` processor, as upstream's `k8sattributesprocessor.Config`.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import type { AuthType } from "../../pkg/kube/config.ts";

/** Every `extract::metadata` name this processor can write. */
export const METADATA_FIELDS = [
  "k8s.namespace.name",
  "k8s.pod.name",
  "k8s.pod.uid",
  "k8s.pod.hostname",
  "k8s.pod.start_time",
  "k8s.pod.ip",
  "k8s.deployment.name",
  "k8s.deployment.uid",
  "k8s.replicaset.name",
  "k8s.replicaset.uid",
  "k8s.daemonset.name",
  "k8s.daemonset.uid",
  "k8s.statefulset.name",
  "k8s.statefulset.uid",
  "k8s.job.name",
  "k8s.job.uid",
  "k8s.cronjob.name",
  "k8s.cronjob.uid",
  "k8s.node.name",
  "k8s.node.uid",
  "k8s.container.name",
  "container.id",
  "container.image.name",
  "container.image.tag",
  "container.image.repo_digests",
  "k8s.container.restart_count",
  "k8s.cluster.uid",
  "service.namespace",
  "service.name",
  "service.version",
  "service.instance.id",
] as const;

/** The default `extract::metadata`. */
export const DEFAULT_METADATA: readonly string[] = [
  "k8s.namespace.name",
  "k8s.pod.name",
  "k8s.pod.uid",
  "k8s.pod.start_time",
  "k8s.deployment.name",
  "k8s.node.name",
];

/** Resource attributes a `pod_association` source can name. */
export const ASSOCIATION_ATTRIBUTES = [
  "k8s.pod.ip",
  "ip",
  "host.name",
  "k8s.pod.uid",
  "k8s.pod.name",
  "k8s.namespace.name",
  "container.id",
] as const;

/** One `extract::labels` or `extract::annotations` rule. */
export interface ExtractRule {
  tagName: string;
  key: string | undefined;
  /** Anchored `^(?:…)$`. */
  keyRegex: RegExp | undefined;
  /** The pattern as written (for the projection's key selection). */
  keyRegexSource: string | undefined;
  from: "pod" | "namespace" | "node";
}

/** One source of a `pod_association` rule. */
export interface AssociationSource {
  from: "resource_attribute" | "connection";
  /** The resource attribute (`resource_attribute` only). */
  name: string;
}

/** One `filter::fields` or `filter::labels` entry. */
export interface SelectorFilter {
  key: string;
  value: string;
  op: "equals" | "not-equals" | "exists" | "does-not-exist";
}

/** The processor's typed config. */
export interface K8sAttributesConfig {
  authType: AuthType;
  /** kubeconfig context (`kubeConfig` only); "" for the current context. */
  context: string;
  /** kubeconfig file (`kubeConfig` only); "" for `$KUBECONFIG` or `~/.kube/config`. */
  kubeConfigPath: string;
  passthrough: boolean;
  filter: {
    /** The node to watch pods of: `filter::node`, or the value of `node_from_env_var`. */
    node: string;
    namespace: string;
    fields: SelectorFilter[];
    labels: SelectorFilter[];
  };
  extract: {
    metadata: string[];
    labels: ExtractRule[];
    annotations: ExtractRule[];
    otelAnnotations: boolean;
  };
  /** Rules, each a list of sources that must all resolve; empty = upstream's legacy order. */
  podAssociation: AssociationSource[][];
  /** Pods whose name matches one of these (unanchored, as upstream) get nothing. */
  excludePods: RegExp[];
  waitForMetadata: boolean;
  waitForMetadataTimeoutMs: number;
}

function readSelectors(
  r: ConfigReader,
  key: "fields" | "labels",
  ops: readonly SelectorFilter["op"][],
): SelectorFilter[] {
  return r.list(key).map((e) => {
    const f: SelectorFilter = {
      key: e.string("key", ""),
      value: e.string("value", ""),
      op: e.enum("op", ops, "equals"),
    };
    if (f.key === "") e.error("key", "Required: the field or label to select on");
    return f;
  });
}

function readRules(r: ConfigReader, key: "labels" | "annotations"): ExtractRule[] {
  return r.list(key).map((e) => {
    const from = e.enum("from", ["pod", "namespace", "node"] as const, "pod");
    const k = e.optionalString("key");
    const re = e.optionalString("key_regex");
    let keyRegex: RegExp | undefined;
    if (e.has("regex")) {
      e.error("regex", 'Removed upstream (v0.122): use "key_regex" and "$1" in "tag_name"');
    }
    if (k !== undefined && re !== undefined) {
      e.error("key_regex", 'Set either "key" or "key_regex", not both');
    } else if (k === undefined && re === undefined) {
      e.error(undefined, 'Set "key" (an exact name) or "key_regex" (a pattern)');
    }
    if (re !== undefined) {
      try {
        keyRegex = new RegExp(`^(?:${re})$`);
      } catch (err) {
        e.error("key_regex", `Invalid regular expression: ${(err as Error).message}`);
      }
    }
    const tagName = e.string(
      "tag_name",
      `k8s.${from}.${key}.${k ?? "$0"}`,
    );
    return { tagName, key: k, keyRegex, keyRegexSource: re, from };
  });
}

function readAssociation(r: ConfigReader): AssociationSource[][] {
  return r.list("pod_association").map((rule) => {
    const sources = rule.list("sources").map((s) => {
      const from = s.enum("from", ["resource_attribute", "connection"] as const, "connection");
      if (!s.has("from")) s.error("from", 'Required: "resource_attribute" or "connection"');
      const name = s.string("name", "");
      if (from === "resource_attribute") {
        if (name === "") s.error("name", "Required with from: resource_attribute");
        else if (!(ASSOCIATION_ATTRIBUTES as readonly string[]).includes(name)) {
          s.error(
            "name",
            `Association by "${name}" is not supported; use one of ${
              ASSOCIATION_ATTRIBUTES.join(", ")
            }`,
          );
        }
      }
      return { from, name };
    });
    if (sources.length === 0) rule.error("sources", "A rule needs at least one source");
    if (sources.length > 4) rule.error("sources", "At most 4 sources per rule (as upstream)");
    return sources;
  });
}

/** Reads the processor's section onto upstream's defaults and validates it as upstream does. */
export function parseK8sAttributesConfig(r: ConfigReader): K8sAttributesConfig {
  const authType = r.enum(
    "auth_type",
    ["serviceAccount", "kubeConfig", "none"] as const,
    "serviceAccount",
  );
  const f = r.section("filter");
  let node = f.string("node", "");
  const nodeEnv = f.string("node_from_env_var", "");
  if (nodeEnv !== "") {
    const value = Deno.env.get(nodeEnv) ?? "";
    if (value === "") {
      f.error(
        "node_from_env_var",
        `Environment variable ${nodeEnv} is not set or empty: set it from the downward API ` +
          "(fieldRef spec.nodeName) in the pod spec",
      );
    }
    node = value;
  }
  const fields = readSelectors(f, "fields", ["equals", "not-equals"]);
  const labels = readSelectors(f, "labels", ["equals", "not-equals", "exists", "does-not-exist"]);
  const e = r.section("extract");
  const metadata = e.stringList("metadata", DEFAULT_METADATA);
  if (!e.bool("deployment_name_from_replicaset", true)) {
    e.error(
      "deployment_name_from_replicaset",
      "Only true is supported: k8s.deployment.name comes from the pod-template-hash label " +
        "(and from the ReplicaSet's owner when k8s.deployment.uid makes ReplicaSets watched)",
    );
  }
  metadata.forEach((m, i) => {
    if (!(METADATA_FIELDS as readonly string[]).includes(m)) {
      r.issues.error(
        `${e.childPath("metadata")}::${i}`,
        `Unknown metadata "${m}"; valid: ${METADATA_FIELDS.join(", ")}`,
        e.posOf("metadata"),
      );
    }
  });
  const x = r.section("exclude");
  const excludePods: RegExp[] = [];
  const podsWritten = x.has("pods");
  for (const p of x.list("pods")) {
    const name = p.string("name", "");
    try {
      excludePods.push(new RegExp(name));
    } catch (err) {
      p.error("name", `Invalid regular expression: ${(err as Error).message}`);
    }
  }
  if (!podsWritten) excludePods.push(/jaeger-agent/, /jaeger-collector/);
  return {
    authType,
    context: r.string("context", ""),
    kubeConfigPath: r.string("kube_config_path", ""),
    passthrough: r.bool("passthrough", false),
    filter: { node, namespace: f.string("namespace", ""), fields, labels },
    extract: {
      metadata,
      labels: readRules(e, "labels"),
      annotations: readRules(e, "annotations"),
      otelAnnotations: e.bool("otel_annotations", false),
    },
    podAssociation: readAssociation(r),
    excludePods,
    waitForMetadata: r.bool("wait_for_metadata", false),
    waitForMetadataTimeoutMs: r.duration("wait_for_metadata_timeout", 10_000),
  };
}
