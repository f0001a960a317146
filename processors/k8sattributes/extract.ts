/**
 * Writes a pod's metadata onto a resource with upstream's attribute names. An attribute
 * already present with a non-empty value is never overwritten.
 *
 * @module
 */

import type { AnyValue, KeyValue } from "../../core/pdata/logs.ts";
import { type ExtractRule, type K8sAttributesConfig, METADATA_FIELDS } from "./config.ts";
import {
  type ContainerRecord,
  type MetaRecord,
  type OwnerRecord,
  pairValue,
  type PodRecord,
} from "./projection.ts";

/** The other caches the extraction reads (each present only when its informer runs). */
export interface Lookups {
  namespace(name: string): MetaRecord | undefined;
  node(name: string): MetaRecord | undefined;
  replicaSet(uid: string): OwnerRecord | undefined;
  job(uid: string): OwnerRecord | undefined;
}

function isEmpty(v: AnyValue): boolean {
  return v.kind === "empty" || (v.kind === "string" && v.value === "");
}

/** Sets `key` unless it already has a non-empty value. */
export function putIfAbsent(attrs: KeyValue[], key: string, value: AnyValue): void {
  for (const kv of attrs) {
    if (kv.key !== key) continue;
    if (isEmpty(kv.value)) kv.value = value;
    return;
  }
  attrs.push({ key, value });
}

function putString(attrs: KeyValue[], key: string, value: string | undefined): void {
  if (value === undefined || value === "") return;
  putIfAbsent(attrs, key, { kind: "string", value });
}

function stringAttr(attrs: readonly KeyValue[], key: string): string {
  for (const kv of attrs) {
    if (kv.key === key) {
      return kv.value.kind === "string"
        ? kv.value.value
        : kv.value.kind === "int"
        ? String(kv.value.value)
        : "";
    }
  }
  return "";
}

/** An image reference split as upstream reports it. */
export interface ImageRef {
  name: string;
  /** "latest" when neither a tag nor a digest is written; undefined with a digest only. */
  tag: string | undefined;
}

const imageCache = new Map<string, ImageRef>();

/** Splits `registry/repo:tag@digest` into name and tag (cached: images repeat). */
export function parseImage(image: string): ImageRef {
  let ref = imageCache.get(image);
  if (ref !== undefined) return ref;
  const at = image.indexOf("@");
  const withoutDigest = at < 0 ? image : image.slice(0, at);
  const colon = withoutDigest.lastIndexOf(":");
  const hasTag = colon > withoutDigest.lastIndexOf("/");
  ref = {
    name: hasTag ? withoutDigest.slice(0, colon) : withoutDigest,
    tag: hasTag ? withoutDigest.slice(colon + 1) : at < 0 ? "latest" : undefined,
  };
  if (imageCache.size > 10_000) imageCache.clear();
  imageCache.set(image, ref);
  return ref;
}

/** The repo digest in an `imageID`, when it is one (`repo@sha256:…`). */
export function repoDigest(imageId: string | undefined): string | undefined {
  if (imageId === undefined) return undefined;
  const id = imageId.startsWith("docker-pullable://") ? imageId.slice(18) : imageId;
  const at = id.indexOf("@sha256:");
  return at > 0 ? id : undefined;
}

/** RFC 3339 as Go's `Time.MarshalText` writes whole seconds in UTC. */
export function formatStartTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** Go's `regexp.Expand` template syntax: `$1`, `${1}`, `$name`, `${name}`, `$$`. */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  return template.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (_all, tok: string, braced, bare) => {
    if (tok === "$") return "$";
    const name: string = braced ?? bare;
    const v = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name];
    return v ?? "";
  });
}

const CRONJOB_FROM_JOB = /^(.*)-\d+$/;
const OTEL_ANNOTATION_PREFIX = "resource.opentelemetry.io/";

function applyRule(attrs: KeyValue[], rule: ExtractRule, pairs: readonly string[] | undefined) {
  if (pairs === undefined) return;
  if (rule.key !== undefined) {
    putString(attrs, rule.tagName, pairValue(pairs, rule.key));
    return;
  }
  for (let i = 0; i < pairs.length; i += 2) {
    const m = rule.keyRegex!.exec(pairs[i]!);
    if (m !== null) putString(attrs, expandTemplate(rule.tagName, m), pairs[i + 1]);
  }
}

/** Writes the configured metadata of pods onto resources. */
export class Extractor {
  /** Which metadata is wanted, by name (looked up as properties: cheaper than a Set). */
  readonly #w: Readonly<Record<string, boolean>>;
  /** Per owner kind: the name and uid attribute keys wanted (undefined when not). */
  readonly #ownerKeys: ReadonlyMap<string, readonly [string | undefined, string | undefined]>;
  readonly #cfg: K8sAttributesConfig;
  readonly #lookups: Lookups;
  readonly #containerLevel: boolean;

  /** Builds the extractor for `cfg`. */
  constructor(cfg: K8sAttributesConfig, lookups: Lookups) {
    this.#cfg = cfg;
    const want = new Set(cfg.extract.metadata);
    this.#w = Object.fromEntries(METADATA_FIELDS.map((k) => [k, want.has(k)]));
    this.#ownerKeys = new Map(
      OWNER_KINDS.map(([kind, prefix]) => [kind, [
        want.has(`${prefix}.name`) ? `${prefix}.name` : undefined,
        want.has(`${prefix}.uid`) ? `${prefix}.uid` : undefined,
      ]]),
    );
    this.#lookups = lookups;
    this.#containerLevel = [
      "k8s.container.name",
      "container.id",
      "container.image.name",
      "container.image.tag",
      "container.image.repo_digests",
      "k8s.container.restart_count",
      "service.version",
      "service.instance.id",
    ].some((k) => want.has(k));
  }

  /** Writes what is configured for `pod` onto `attrs`. */
  apply(attrs: KeyValue[], pod: PodRecord): void {
    const w = this.#w;
    if (this.#cfg.extract.otelAnnotations && pod.annotations !== undefined) {
      // First, so that explicit annotations win over every derived value.
      const a = pod.annotations;
      for (let i = 0; i < a.length; i += 2) {
        if (a[i]!.startsWith(OTEL_ANNOTATION_PREFIX)) {
          putString(attrs, a[i]!.slice(OTEL_ANNOTATION_PREFIX.length), a[i + 1]);
        }
      }
    }
    if (w["k8s.namespace.name"]) putString(attrs, "k8s.namespace.name", pod.namespace);
    if (w["k8s.pod.name"]) putString(attrs, "k8s.pod.name", pod.name);
    if (w["k8s.pod.uid"]) putString(attrs, "k8s.pod.uid", pod.uid);
    if (w["k8s.pod.start_time"] && pod.startTime > 0) {
      putString(attrs, "k8s.pod.start_time", pod.startTimeText ??= formatStartTime(pod.startTime));
    }
    if (w["k8s.pod.ip"]) putString(attrs, "k8s.pod.ip", pod.ip);
    if (w["k8s.pod.hostname"]) putString(attrs, "k8s.pod.hostname", pod.hostname);
    if (w["k8s.node.name"]) putString(attrs, "k8s.node.name", pod.nodeName);
    if (w["k8s.node.uid"]) {
      putString(attrs, "k8s.node.uid", this.#lookups.node(pod.nodeName)?.uid);
    }
    this.#owners(attrs, pod);
    if (w["k8s.cluster.uid"]) {
      putString(attrs, "k8s.cluster.uid", this.#lookups.namespace("kube-system")?.uid);
    }
    this.#rules(attrs, pod, this.#cfg.extract.labels, "labels");
    this.#rules(attrs, pod, this.#cfg.extract.annotations, "annotations");
    const container = this.#containerLevel ? this.#container(attrs, pod) : undefined;
    if (container !== undefined) this.#containerAttrs(attrs, container);
    this.#service(attrs, pod, container);
  }

  #rules(
    attrs: KeyValue[],
    pod: PodRecord,
    rules: readonly ExtractRule[],
    which: "labels" | "annotations",
  ): void {
    for (const rule of rules) {
      const source = rule.from === "pod"
        ? pod
        : rule.from === "namespace"
        ? this.#lookups.namespace(pod.namespace)
        : this.#lookups.node(pod.nodeName);
      applyRule(attrs, rule, source?.[which]);
    }
  }

  #deployment(pod: PodRecord): { name?: string; uid?: string } {
    if (pod.ownerKind === "ReplicaSet" && pod.ownerUid !== undefined) {
      const rs = this.#lookups.replicaSet(pod.ownerUid);
      if (rs?.ownerKind === "Deployment") return { name: rs.ownerName, uid: rs.ownerUid };
    }
    return { name: pod.deploymentName };
  }

  #cronJob(pod: PodRecord): { name?: string; uid?: string } {
    if (pod.ownerKind !== "Job" || pod.ownerName === undefined) return {};
    const job = pod.ownerUid === undefined ? undefined : this.#lookups.job(pod.ownerUid);
    if (job?.ownerKind === "CronJob") return { name: job.ownerName, uid: job.ownerUid };
    return { name: CRONJOB_FROM_JOB.exec(pod.ownerName)?.[1] };
  }

  #owners(attrs: KeyValue[], pod: PodRecord): void {
    const w = this.#w;
    if (w["k8s.deployment.name"] || w["k8s.deployment.uid"]) {
      const d = this.#deployment(pod);
      if (w["k8s.deployment.name"]) putString(attrs, "k8s.deployment.name", d.name);
      if (w["k8s.deployment.uid"]) putString(attrs, "k8s.deployment.uid", d.uid);
    }
    const keys = pod.ownerKind === undefined ? undefined : this.#ownerKeys.get(pod.ownerKind);
    if (keys?.[0] !== undefined) putString(attrs, keys[0], pod.ownerName);
    if (keys?.[1] !== undefined) putString(attrs, keys[1], pod.ownerUid);
    if (w["k8s.cronjob.name"] || w["k8s.cronjob.uid"]) {
      const c = this.#cronJob(pod);
      if (w["k8s.cronjob.name"]) putString(attrs, "k8s.cronjob.name", c.name);
      if (w["k8s.cronjob.uid"]) putString(attrs, "k8s.cronjob.uid", c.uid);
    }
  }

  /** The container the resource is about: by name, by container id, or the only one. */
  #container(attrs: readonly KeyValue[], pod: PodRecord): ContainerRecord | undefined {
    const containers = pod.containers;
    if (containers === undefined || containers.length === 0) return undefined;
    const name = stringAttr(attrs, "k8s.container.name");
    if (name !== "") return containers.find((c) => c.name === name);
    const id = stringAttr(attrs, "container.id");
    if (id !== "") return containers.find((c) => c.ids?.includes(id));
    return containers.length === 1 ? containers[0] : undefined;
  }

  #containerAttrs(attrs: KeyValue[], c: ContainerRecord): void {
    const w = this.#w;
    if (w["k8s.container.name"]) putString(attrs, "k8s.container.name", c.name);
    if (w["container.id"] && c.ids !== undefined) {
      // With a restart count on the resource, the id of that run; else the current one.
      const run = stringAttr(attrs, "k8s.container.restart_count");
      const id = run !== "" && Number(run) === c.restarts - 1 ? c.ids[1] : c.ids[0];
      putString(attrs, "container.id", id);
    }
    if (w["container.image.name"] || w["container.image.tag"]) {
      const img = parseImage(c.image);
      if (w["container.image.name"]) putString(attrs, "container.image.name", img.name);
      if (w["container.image.tag"]) putString(attrs, "container.image.tag", img.tag);
    }
    if (w["container.image.repo_digests"]) {
      const digest = repoDigest(c.imageId);
      if (digest !== undefined) {
        putIfAbsent(attrs, "container.image.repo_digests", {
          kind: "array",
          value: [{ kind: "string", value: digest }],
        });
      }
    }
    if (w["k8s.container.restart_count"] && c.ids !== undefined) {
      putIfAbsent(attrs, "k8s.container.restart_count", { kind: "int", value: BigInt(c.restarts) });
    }
  }

  #service(attrs: KeyValue[], pod: PodRecord, c: ContainerRecord | undefined): void {
    const w = this.#w;
    if (w["service.namespace"]) putString(attrs, "service.namespace", pod.namespace);
    if (w["service.name"]) {
      // Deployment beats ReplicaSet and CronJob beats Job; then the pod's own owner.
      const owner = this.#deployment(pod).name ?? this.#cronJob(pod).name ?? pod.ownerName;
      putString(
        attrs,
        "service.name",
        pod.label("app.kubernetes.io/instance") ?? pod.label("app.kubernetes.io/name") ?? owner ??
          pod.name,
      );
    }
    if (w["service.version"]) {
      const img = c === undefined ? undefined : parseImage(c.image);
      putString(attrs, "service.version", pod.label("app.kubernetes.io/version") ?? img?.tag);
    }
    if (w["service.instance.id"] && c !== undefined) {
      putString(attrs, "service.instance.id", `${pod.namespace}.${pod.name}.${c.name}`);
    }
  }
}

const OWNER_KINDS: readonly [string, string][] = [
  ["ReplicaSet", "k8s.replicaset"],
  ["StatefulSet", "k8s.statefulset"],
  ["DaemonSet", "k8s.daemonset"],
  ["Job", "k8s.job"],
];
