/**
 * What the processor keeps of each Kubernetes object: compact records holding only the
 * fields `extract` and `pod_association` need, with repeated strings (namespaces, nodes,
 * label keys and values, images, container names) interned. Never the object itself.
 *
 * @module
 */

import type { KubeObject } from "../../pkg/kube/client.ts";
import type { Projection } from "../../pkg/kube/informer.ts";

/** Dedupes repeated strings; forgets everything past `max` entries so churn cannot grow it. */
export class Interner {
  #map = new Map<string, string>();
  readonly #max: number;

  /** Builds an interner holding at most `max` distinct strings. */
  constructor(max = 200_000) {
    this.#max = max;
  }

  /** The one kept copy of `s`. */
  get(s: string): string {
    const kept = this.#map.get(s);
    if (kept !== undefined) return kept;
    if (this.#map.size >= this.#max) this.#map = new Map();
    this.#map.set(s, s);
    return s;
  }
}

const interner = new Interner();
const intern = (s: string): string => interner.get(s);

/** Which label or annotation keys to keep. */
export interface KeySelection {
  keys: string[];
  /** Regular expression sources (anchored by the caller). */
  patterns: string[];
}

/** What pods must keep, derived from every subscriber's config. */
export interface PodNeeds {
  labels: KeySelection;
  annotations: KeySelection;
  /** 0: no containers; 1: names and images; 2: also ids, image ids and restart counts. */
  containers: 0 | 1 | 2;
  /** The controller owner's kind, name and uid (not only the derived Deployment name). */
  owner: boolean;
  hostname: boolean;
}

/** One container of a pod. */
export interface ContainerRecord {
  readonly name: string;
  readonly image: string;
  /** Runtime ids without the `<runtime>://` prefix: current first, then the previous run's. */
  readonly ids: readonly string[] | undefined;
  readonly imageId: string | undefined;
  readonly restarts: number;
}

/** The projection of one pod. */
export class PodRecord {
  /** Seconds since the epoch when deleted (kept for the grace period), else 0. */
  deletedAt = 0;
  /** `startTime` as RFC 3339, formatted on first use (only pods that send data pay). */
  startTimeText: string | undefined = undefined;

  /** Builds a record; see the field docs. */
  constructor(
    readonly uid: string,
    readonly name: string,
    readonly namespace: string,
    readonly nodeName: string,
    readonly ip: string,
    readonly hostNetwork: boolean,
    /** creationTimestamp, seconds since the epoch (always whole seconds in the API). */
    readonly startTime: number,
    readonly hostname: string | undefined,
    /** The Deployment name from the ReplicaSet owner and the `pod-template-hash` label. */
    readonly deploymentName: string | undefined,
    readonly ownerKind: string | undefined,
    readonly ownerName: string | undefined,
    readonly ownerUid: string | undefined,
    /** Kept labels as [key, value, key, value, …]. */
    readonly labels: readonly string[] | undefined,
    readonly annotations: readonly string[] | undefined,
    readonly containers: readonly ContainerRecord[] | undefined,
    /** A static pod's config hash (`kubernetes.io/config.mirror`): its UID on the node. */
    readonly mirrorUid: string | undefined,
    /** `opentelemetry.io/k8s-processor/ignore: "true"`. */
    readonly ignored: boolean,
  ) {}

  /** The value of a kept label. */
  label(key: string): string | undefined {
    return pairValue(this.labels, key);
  }
}

/** The projection of a namespace or node. */
export interface MetaRecord {
  readonly name: string;
  readonly uid: string;
  readonly labels: readonly string[] | undefined;
  readonly annotations: readonly string[] | undefined;
}

/** The projection of a ReplicaSet or Job (metadata only): its controlling owner. */
export interface OwnerRecord {
  readonly uid: string;
  readonly ownerKind: string | undefined;
  readonly ownerName: string | undefined;
  readonly ownerUid: string | undefined;
}

/** Finds `key` in a flat [key, value, …] list. */
export function pairValue(pairs: readonly string[] | undefined, key: string): string | undefined {
  if (pairs === undefined) return undefined;
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === key) return pairs[i + 1];
  return undefined;
}

function selectionMatcher(sel: KeySelection): ((key: string) => boolean) | undefined {
  if (sel.keys.length === 0 && sel.patterns.length === 0) return undefined;
  const keys = new Set(sel.keys);
  const res = sel.patterns.map((p) => new RegExp(`^(?:${p})$`));
  return (key) => keys.has(key) || res.some((re) => re.test(key));
}

function pick(
  map: Record<string, string> | undefined,
  want: ((key: string) => boolean) | undefined,
): string[] | undefined {
  if (want === undefined || map === undefined) return undefined;
  let out: string[] | undefined;
  for (const k in map) {
    if (want(k)) (out ??= []).push(intern(k), intern(map[k]!));
  }
  return out;
}

function union(a: KeySelection, b: KeySelection): KeySelection {
  return {
    keys: [...new Set([...a.keys, ...b.keys])],
    patterns: [...new Set([...a.patterns, ...b.patterns])],
  };
}

function includes(have: KeySelection, want: KeySelection): boolean {
  return want.keys.every((k) => have.keys.includes(k)) &&
    want.patterns.every((p) => have.patterns.includes(p));
}

const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";
const IGNORE_ANNOTATION = "opentelemetry.io/k8s-processor/ignore";

interface OwnerRef {
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

function controllerOf(meta: { ownerReferences?: OwnerRef[] }): OwnerRef | undefined {
  const refs = meta.ownerReferences;
  if (refs === undefined) return undefined;
  return refs.find((r) => r.controller) ?? refs[0];
}

interface ContainerStatus {
  name?: string;
  containerID?: string;
  imageID?: string;
  restartCount?: number;
  lastState?: { terminated?: { containerID?: string } };
}

function stripRuntime(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const i = id.indexOf("://");
  return i < 0 ? id : id.slice(i + 3);
}

function containersOf(
  // deno-lint-ignore no-explicit-any
  spec: any,
  // deno-lint-ignore no-explicit-any
  status: any,
  level: 1 | 2,
): ContainerRecord[] {
  const statuses = new Map<string, ContainerStatus>();
  if (level === 2) {
    for (const list of [status?.containerStatuses, status?.initContainerStatuses]) {
      for (const s of (list ?? []) as ContainerStatus[]) if (s.name) statuses.set(s.name, s);
    }
  }
  const out: ContainerRecord[] = [];
  for (const list of [spec?.containers, spec?.initContainers]) {
    for (const c of (list ?? []) as { name?: string; image?: string }[]) {
      if (!c.name) continue;
      const s = statuses.get(c.name);
      let ids: string[] | undefined;
      const current = stripRuntime(s?.containerID);
      const previous = stripRuntime(s?.lastState?.terminated?.containerID);
      if (current) ids = [current];
      if (previous) (ids ??= []).push(previous);
      out.push({
        name: intern(c.name),
        image: intern(c.image ?? ""),
        ids,
        imageId: s?.imageID ? intern(s.imageID) : undefined,
        restarts: s?.restartCount ?? 0,
      });
    }
  }
  return out;
}

function seconds(ts: string | undefined): number {
  if (!ts) return 0;
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

/** How pods are projected, and how several configs' needs combine. */
export const podProjection: Projection<PodNeeds, PodRecord> = {
  merge: (a, b) => ({
    labels: union(a.labels, b.labels),
    annotations: union(a.annotations, b.annotations),
    containers: Math.max(a.containers, b.containers) as 0 | 1 | 2,
    owner: a.owner || b.owner,
    hostname: a.hostname || b.hostname,
  }),
  covers: (have, want) =>
    includes(have.labels, want.labels) && includes(have.annotations, want.annotations) &&
    have.containers >= want.containers && (have.owner || !want.owner) &&
    (have.hostname || !want.hostname),
  project(needs) {
    const wantLabel = selectionMatcher(needs.labels);
    const wantAnnotation = selectionMatcher(needs.annotations);
    return (obj: KubeObject): PodRecord | undefined => {
      // deno-lint-ignore no-explicit-any
      const o = obj as any;
      const m = o.metadata;
      if (!m?.uid || !m.name) return undefined;
      const annotations = m.annotations as Record<string, string> | undefined;
      const labels = m.labels as Record<string, string> | undefined;
      const owner = controllerOf(m);
      let deploymentName: string | undefined;
      const hash = labels?.["pod-template-hash"];
      if (owner?.kind === "ReplicaSet" && hash && owner.name?.endsWith(`-${hash}`)) {
        deploymentName = intern(owner.name.slice(0, -hash.length - 1));
      }
      const keepOwner = needs.owner && owner !== undefined;
      return new PodRecord(
        m.uid,
        m.name,
        intern(m.namespace ?? ""),
        intern(o.spec?.nodeName ?? ""),
        o.status?.podIP ?? "",
        o.spec?.hostNetwork === true,
        seconds(m.creationTimestamp),
        needs.hostname ? o.spec?.hostname : undefined,
        deploymentName,
        keepOwner ? intern(owner.kind ?? "") : undefined,
        keepOwner ? owner.name : undefined,
        keepOwner ? owner.uid : undefined,
        pick(labels, wantLabel),
        pick(annotations, wantAnnotation),
        needs.containers === 0 ? undefined : containersOf(o.spec, o.status, needs.containers),
        annotations?.[MIRROR_ANNOTATION],
        annotations?.[IGNORE_ANNOTATION] === "true",
      );
    };
  },
};

/** What namespaces and nodes must keep. */
export interface MetaNeeds {
  labels: KeySelection;
  annotations: KeySelection;
}

/** How namespaces and nodes are projected. */
export const metaProjection: Projection<MetaNeeds, MetaRecord> = {
  merge: (a, b) => ({
    labels: union(a.labels, b.labels),
    annotations: union(a.annotations, b.annotations),
  }),
  covers: (have, want) =>
    includes(have.labels, want.labels) && includes(have.annotations, want.annotations),
  project(needs) {
    const wantLabel = selectionMatcher(needs.labels);
    const wantAnnotation = selectionMatcher(needs.annotations);
    return (obj) => {
      const m = obj.metadata as
        | { name?: string; uid?: string; labels?: Record<string, string> }
          & { annotations?: Record<string, string> }
        | undefined;
      if (!m?.name) return undefined;
      return {
        name: m.name,
        uid: m.uid ?? "",
        labels: pick(m.labels, wantLabel),
        annotations: pick(m.annotations, wantAnnotation),
      };
    };
  },
};

/** How ReplicaSets and Jobs (metadata only) are projected: their controller. */
export const ownerProjection: Projection<null, OwnerRecord> = {
  merge: () => null,
  covers: () => true,
  project: () => (obj) => {
    const m = obj.metadata as { uid?: string; ownerReferences?: OwnerRef[] } | undefined;
    if (!m?.uid) return undefined;
    const owner = controllerOf(m);
    return {
      uid: m.uid,
      ownerKind: owner?.kind,
      ownerName: owner?.name ? intern(owner.name) : undefined,
      ownerUid: owner?.uid,
    };
  },
};
