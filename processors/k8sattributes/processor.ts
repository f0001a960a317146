/**
 * The `k8sattributes` processor: finds each resource's pod (`pod_association`) in a cache
 * fed by shared informers and writes its metadata (`extract`) onto the resource.
 *
 * Beyond upstream: a batch that comes before every cache's first sync is held (the caller
 * waits: backpressure) until they synced or `wait_for_metadata_timeout` after start passed, at
 * most {@linkcode MAX_HELD_RECORDS} records at a time, and enriched then.
 *
 * It changes only resources, so a batch held encoded (`EncodedLogs`) keeps its records' bytes:
 * only the resources are decoded and encoded again.
 *
 * @module
 */

import type { CreateSettings, Host, Processor } from "../../core/component.ts";
import type { ConsumeContext, LogsConsumer } from "../../core/consumer.ts";
import { forEachResource } from "../../core/pdata/encoded_logs.ts";
import { logRecordCount, type Logs, type Resource } from "../../core/pdata/logs.ts";
import type { Counter, Gauge, MetricsRegistry } from "../../core/telemetry/metrics.ts";
import {
  type ClientOptions,
  JOBS,
  NAMESPACES,
  NODES,
  PODS,
  type QueryOptions,
  REPLICASETS,
  type ResourceType,
} from "../../pkg/kube/client.ts";
import { type KubeClientConfig, loadClientConfig } from "../../pkg/kube/config.ts";
import {
  acquireInformer,
  type BackoffOptions,
  type InformerHandler,
  type InformerLease,
  type Projection,
} from "../../pkg/kube/informer.ts";
import { Association } from "./association.ts";
import type { K8sAttributesConfig, SelectorFilter } from "./config.ts";
import { Extractor, type Lookups, putIfAbsent } from "./extract.ts";
import {
  type KeySelection,
  type MetaNeeds,
  metaProjection,
  type MetaRecord,
  ownerProjection,
  type OwnerRecord,
  type PodNeeds,
  podProjection,
  type PodRecord,
} from "./projection.ts";
import { PodTable } from "./table.ts";

/** Upstream's metric names. */
export const K8S_METRICS = {
  podAdded: "otelcol_otelsvc_k8s_pod_added",
  podUpdated: "otelcol_otelsvc_k8s_pod_updated",
  podDeleted: "otelcol_otelsvc_k8s_pod_deleted",
  podTableSize: "otelcol_otelsvc_k8s_pod_table_size",
  ipLookupMiss: "otelcol_otelsvc_k8s_ip_lookup_miss",
  association: "otelcol_k8s_pod_association",
} as const;

const FOUND = 0;
const NO_ID = 1;
const NOT_FOUND = 2;
type EnrichResult = typeof FOUND | typeof NO_ID | typeof NOT_FOUND;

/** A batch's association outcomes, counted once per batch. */
interface AssociationCounts {
  found: number;
  noId: number;
  notFound: number;
}

/** Most records held at once while waiting for the first sync; more pass as they are. */
export const MAX_HELD_RECORDS = 20_000;

/** Test and bench hooks: a ready client config instead of `auth_type`, faster retries. */
export interface K8sAttributesOverrides {
  clientConfig?: KubeClientConfig;
  backoff?: BackoffOptions;
  client?: ClientOptions;
}

const CONTAINER_IDS = [
  "k8s.container.name",
  "container.id",
  "container.image.repo_digests",
  "k8s.container.restart_count",
];
const CONTAINER_IMAGES = [
  "container.image.name",
  "container.image.tag",
  "service.version",
  "service.instance.id",
];
const OWNER_FIELDS = [
  "k8s.deployment.uid",
  "k8s.replicaset.name",
  "k8s.replicaset.uid",
  "k8s.statefulset.name",
  "k8s.statefulset.uid",
  "k8s.daemonset.name",
  "k8s.daemonset.uid",
  "k8s.job.name",
  "k8s.job.uid",
  "k8s.cronjob.name",
  "k8s.cronjob.uid",
  "service.name",
];

function selection(cfg: K8sAttributesConfig, from: string, which: "labels" | "annotations") {
  const sel: KeySelection = { keys: [], patterns: [] };
  for (const rule of cfg.extract[which]) {
    if (rule.from !== from) continue;
    if (rule.key !== undefined) sel.keys.push(rule.key);
    else if (rule.keyRegexSource !== undefined) sel.patterns.push(rule.keyRegexSource);
  }
  return sel;
}

/** What pods must keep for `cfg` (the projection is never wider than the config needs). */
export function podNeeds(cfg: K8sAttributesConfig, assoc: Association): PodNeeds {
  const want = new Set(cfg.extract.metadata);
  const labels = selection(cfg, "pod", "labels");
  const annotations = selection(cfg, "pod", "annotations");
  if (want.has("k8s.deployment.name")) labels.keys.push("pod-template-hash");
  if (want.has("service.name")) {
    labels.keys.push("app.kubernetes.io/instance", "app.kubernetes.io/name");
  }
  if (want.has("service.version")) labels.keys.push("app.kubernetes.io/version");
  if (cfg.extract.otelAnnotations) annotations.patterns.push("resource\\.opentelemetry\\.io/.*");
  return {
    labels,
    annotations,
    containers: CONTAINER_IDS.some((k) => want.has(k)) || assoc.usesContainerId
      ? 2
      : CONTAINER_IMAGES.some((k) => want.has(k))
      ? 1
      : 0,
    owner: OWNER_FIELDS.some((k) => want.has(k)),
    hostname: want.has("k8s.pod.hostname"),
  };
}

function selectorText(filters: readonly SelectorFilter[]): string[] {
  return filters.map((f) => {
    switch (f.op) {
      case "equals":
        return `${f.key}=${f.value}`;
      case "not-equals":
        return `${f.key}!=${f.value}`;
      case "exists":
        return f.key;
      case "does-not-exist":
        return `!${f.key}`;
    }
  });
}

/** One informer the config needs: what to watch and how to project it. */
export interface InformerPlan {
  resource: ResourceType;
  query: QueryOptions;
}

/** Which informers `cfg` needs, with their queries (the RBAC follows from this). */
export function informerPlans(cfg: K8sAttributesConfig): Record<string, InformerPlan> {
  const want = new Set(cfg.extract.metadata);
  const ns = cfg.filter.namespace;
  const fields = selectorText(cfg.filter.fields);
  if (cfg.filter.node !== "") fields.unshift(`spec.nodeName=${cfg.filter.node}`);
  const plans: Record<string, InformerPlan> = {
    pods: {
      resource: PODS,
      query: {
        namespace: ns,
        fieldSelector: fields.join(","),
        labelSelector: selectorText(cfg.filter.labels).join(","),
      },
    },
  };
  const rulesFrom = (from: string) =>
    [...cfg.extract.labels, ...cfg.extract.annotations].some((r) => r.from === from);
  if (rulesFrom("namespace") || want.has("k8s.cluster.uid")) {
    // Only kube-system for the cluster uid alone; one namespace with filter::namespace.
    const only = !rulesFrom("namespace") ? "kube-system" : !want.has("k8s.cluster.uid") ? ns : "";
    plans.namespaces = {
      resource: NAMESPACES,
      query: { fieldSelector: only === "" ? "" : `metadata.name=${only}` },
    };
  }
  if (rulesFrom("node") || want.has("k8s.node.uid")) {
    const node = cfg.filter.node;
    plans.nodes = {
      resource: NODES,
      query: { fieldSelector: node === "" ? "" : `metadata.name=${node}` },
    };
  }
  if (want.has("k8s.deployment.uid")) {
    plans.replicasets = { resource: REPLICASETS, query: { namespace: ns, metadataOnly: true } };
  }
  if (want.has("k8s.cronjob.uid")) {
    plans.jobs = { resource: JOBS, query: { namespace: ns, metadataOnly: true } };
  }
  return plans;
}

/** Keeps projections by a key (name for namespaces and nodes, uid for owners). */
class KeyedStore<T> implements InformerHandler<T> {
  readonly map = new Map<string, T>();
  readonly #events: Counter[];
  /**
   * Counts events as upstream's `otelcol_otelsvc_k8s_<kind>_added|updated|deleted`; `kind` is
   * undefined for kinds upstream has no such metrics for (jobs).
   */
  constructor(readonly key: (t: T) => string, metrics: MetricsRegistry, kind?: string) {
    this.#events = ["added", "updated", "deleted"].map((e) =>
      kind === undefined ? { add: () => {} } : metrics.counter(
        `otelcol_otelsvc_k8s_${kind}_${e}`,
        `Number of ${kind} ${e} events received`,
      )
    );
  }
  add(item: T): void {
    this.map.set(this.key(item), item);
    this.#events[0]!.add(1, {});
  }
  update(_old: T, item: T): void {
    this.map.set(this.key(item), item);
    this.#events[1]!.add(1, {});
  }
  delete(item: T): void {
    this.map.delete(this.key(item));
    this.#events[2]!.add(1, {});
  }
}

/** The processor; see the module doc. */
export class K8sAttributesProcessor implements Processor {
  /** Resources get attributes in place, so fan-out must hand over copies. */
  readonly mutatesData = true;
  /** It changes only resources: a batch held encoded stays so (`EncodedLogs.editResources`). */
  readonly keepsEncoded = true;
  readonly #settings: CreateSettings;
  readonly #cfg: K8sAttributesConfig;
  readonly #next: LogsConsumer;
  readonly #overrides: K8sAttributesOverrides;
  readonly #assoc: Association;
  readonly #table: PodTable;
  readonly #extractor: Extractor;
  readonly #namespaces: KeyedStore<MetaRecord>;
  readonly #nodes: KeyedStore<MetaRecord>;
  readonly #replicaSets: KeyedStore<OwnerRecord>;
  readonly #jobs: KeyedStore<OwnerRecord>;
  #leases: InformerLease<unknown>[] = [];
  #allSynced: Promise<void> | undefined;
  #ready = false;
  #deadline = 0;
  #held = 0;
  readonly #stop = new AbortController();
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  readonly #miss: Counter;
  readonly #association: Counter;
  readonly #tableSize: Gauge;

  /** Builds the processor in front of `next`. */
  constructor(
    settings: CreateSettings,
    cfg: K8sAttributesConfig,
    next: LogsConsumer,
    overrides: K8sAttributesOverrides = {},
  ) {
    this.#settings = settings;
    this.#cfg = cfg;
    this.#next = next;
    this.#overrides = overrides;
    this.#assoc = new Association(cfg.podAssociation);
    const m = settings.metrics;
    this.#namespaces = new KeyedStore((r) => r.name, m, "namespace");
    this.#nodes = new KeyedStore((r) => r.name, m, "node");
    this.#replicaSets = new KeyedStore((r) => r.uid, m, "replicaset");
    this.#jobs = new KeyedStore((r) => r.uid, m);
    const added = m.counter(K8S_METRICS.podAdded, "Number of pod add events received");
    const updated = m.counter(K8S_METRICS.podUpdated, "Number of pod update events received");
    const deleted = m.counter(K8S_METRICS.podDeleted, "Number of pod delete events received");
    this.#miss = m.counter(K8S_METRICS.ipLookupMiss, "Number of times pod by IP lookup failed.");
    this.#association = m.counter(
      K8S_METRICS.association,
      "Number of pod associations, by status (success or error)",
    );
    this.#tableSize = m.gauge(K8S_METRICS.podTableSize, "Size of table containing pod info");
    this.#table = new PodTable(this.#assoc.fieldSets, cfg.excludePods, {
      added: () => added.add(1, {}),
      updated: () => updated.add(1, {}),
      deleted: () => deleted.add(1, {}),
    });
    const lookups: Lookups = {
      namespace: (name) => this.#namespaces.map.get(name),
      node: (name) => this.#nodes.map.get(name),
      replicaSet: (uid) => this.#replicaSets.map.get(uid),
      job: (uid) => this.#jobs.map.get(uid),
    };
    this.#extractor = new Extractor(cfg, lookups);
  }

  /** The pod table (for tests and the bench). */
  get table(): PodTable {
    return this.#table;
  }

  /** True once every informer completed its first list. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Connects to the API server and starts (or joins) the informers. */
  async start(_host: Host): Promise<void> {
    if (this.#cfg.passthrough) return;
    const cfg = this.#cfg;
    const config = this.#overrides.clientConfig ??
      await loadClientConfig(cfg.authType, {
        context: cfg.context,
        kubeConfigPath: cfg.kubeConfigPath || undefined,
      });
    const logger = this.#settings.logger;
    const common = {
      config,
      logger,
      backoff: this.#overrides.backoff,
      client: this.#overrides.client,
    };
    const plans = informerPlans(cfg);
    const lease = <S, T>(
      plan: InformerPlan,
      projection: Projection<S, T>,
      spec: S,
      h: InformerHandler<T>,
    ) => {
      const l = acquireInformer({ ...common, ...plan, projection, spec, handler: h });
      this.#leases.push(l as InformerLease<unknown>);
      return l;
    };
    const pods = lease(plans.pods!, podProjection, podNeeds(cfg, this.#assoc), this.#table);
    const metaNeeds = (from: string): MetaNeeds => ({
      labels: selection(cfg, from, "labels"),
      annotations: selection(cfg, from, "annotations"),
    });
    if (plans.namespaces) {
      lease(plans.namespaces, metaProjection, metaNeeds("namespace"), this.#namespaces);
    }
    if (plans.nodes) lease(plans.nodes, metaProjection, metaNeeds("node"), this.#nodes);
    if (plans.replicasets) lease(plans.replicasets, ownerProjection, null, this.#replicaSets);
    if (plans.jobs) lease(plans.jobs, ownerProjection, null, this.#jobs);
    this.#deadline = Date.now() + cfg.waitForMetadataTimeoutMs;
    this.#allSynced = Promise.all(this.#leases.map((l) => l.informer.synced)).then(() => {
      this.#ready = true;
    });
    this.#sweepTimer = setInterval(() => {
      this.#table.sweep();
      this.#tableSize.set(this.#table.size, {});
    }, 10_000);
    Deno.unrefTimer(this.#sweepTimer);
    if (cfg.waitForMetadata) {
      const synced = await this.#waitUntil(pods.informer.synced, cfg.waitForMetadataTimeoutMs);
      if (!synced) {
        const why = pods.informer.lastError?.message ?? "no answer from the API server";
        await this.shutdown();
        throw new Error(
          `k8sattributes: the pod cache did not sync within wait_for_metadata_timeout ` +
            `(${cfg.waitForMetadataTimeoutMs} ms): ${why}`,
        );
      }
    }
  }

  /** Resolves true when `p` settled within `ms`, false on timeout or shutdown. */
  async #waitUntil(p: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = this.#stop.signal;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, ms));
      stop.addEventListener("abort", () => resolve(false), { once: true });
    });
    try {
      return await Promise.race([p.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops this instance's share of the informers. */
  async shutdown(): Promise<void> {
    this.#stop.abort();
    clearInterval(this.#sweepTimer);
    const leases = this.#leases;
    this.#leases = [];
    await Promise.all(leases.map((l) => l.release()));
  }

  /**
   * Enriches every resource. Before every cache's first sync a batch is held until they
   * synced (or the deadline): a pod already listed may still miss its namespace, node or owner.
   */
  async consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
    const addr = ctx.client?.addr;
    if (this.#cfg.passthrough) {
      forEachResource(logs, (r) => this.#passthrough(r, addr));
      return this.#next.consume(logs, ctx);
    }
    if (!this.#ready && Date.now() < this.#deadline) {
      await this.#heldUntilSynced(logRecordCount(logs));
    }
    const counts: AssociationCounts = { found: 0, noId: 0, notFound: 0 };
    forEachResource(logs, (r) => this.#count(counts, this.#enrich(r, addr), r, addr));
    // Counted once per batch: a labelled counter update costs more than a lookup.
    if (counts.found > 0) this.#association.add(counts.found, { status: "success" });
    const errors = counts.noId + counts.notFound;
    if (errors > 0) this.#association.add(errors, { status: "error" });
    if (counts.notFound > 0) this.#miss.add(counts.notFound, {});
    return this.#next.consume(logs, ctx);
  }

  /** Waits for the first sync (or the deadline) unless `records` more would be too many. */
  async #heldUntilSynced(records: number): Promise<void> {
    if (this.#held + records > MAX_HELD_RECORDS) return;
    this.#held += records;
    try {
      await this.#waitUntil(this.#allSynced!, this.#deadline - Date.now());
    } finally {
      this.#held -= records;
    }
  }

  #count(
    counts: AssociationCounts,
    result: EnrichResult,
    resource: Resource,
    addr: string | undefined,
  ): void {
    if (result === FOUND) counts.found++;
    else if (result === NO_ID) counts.noId++;
    else counts.notFound += this.#notFound(resource, addr);
  }

  #passthrough(resource: Resource, addr: string | undefined): void {
    const attrs = resource.attributes;
    for (const rule of this.#assoc.rules) {
      if (this.#assoc.identifyRule(rule, attrs, addr) === undefined) continue;
      const conn = rule.sources.some((s) => s.from === "connection");
      if (conn && addr) putIfAbsent(attrs, "k8s.pod.ip", { kind: "string", value: addr });
      return;
    }
  }

  /** Looks the pod up and writes its metadata. */
  #enrich(resource: Resource, addr: string | undefined): EnrichResult {
    const attrs = resource.attributes;
    const id = this.#assoc.identify(attrs, addr);
    if (id === undefined) return NO_ID;
    const pod: PodRecord | undefined = this.#table.lookup(id.index, id.key);
    if (pod === undefined) return NOT_FOUND;
    this.#extractor.apply(attrs, pod);
    return FOUND;
  }

  /** Logs a failed lookup at debug level (as upstream); returns 1 to count it. */
  #notFound(resource: Resource, addr: string | undefined): number {
    const logger = this.#settings.logger;
    if (logger.enabled("debug")) {
      const id = this.#assoc.identify(resource.attributes, addr);
      logger.debug("pod not found", { identifier: id?.key.replaceAll("\u0000", ",") });
    }
    return 1;
  }
}
