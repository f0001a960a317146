/**
 * A loopback fake Kubernetes API server speaking the real list/watch wire format: paginated
 * lists (`limit`/`continue`, or the whole list at `resourceVersion=0` as the watch cache
 * answers), chunked watch streams with ADDED/MODIFIED/DELETED/BOOKMARK events and a 410
 * ERROR event once the requested version is compacted, `PartialObjectMetadata` when the
 * Accept header asks for it, bearer-token checks (401), forbidden resources (403), injected
 * failures, and watches that hang or close. Every request is recorded.
 *
 * @module
 */

/** A Kubernetes object as the fake stores it. */
// deno-lint-ignore no-explicit-any
export type KObject = Record<string, any>;

/** One request the fake answered. */
export interface RecordedRequest {
  resource: string;
  namespace: string;
  params: URLSearchParams;
  accept: string;
  authorization: string;
}

interface HistoryEvent {
  rv: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  resource: string;
  object: KObject;
}

interface Watcher {
  resource: string;
  namespace: string;
  filter: (o: KObject) => boolean;
  partial: boolean;
  send(text: string): void;
  close(): void;
}

const encoder = new TextEncoder();

/** `/api/v1/pods`, `/api/v1/namespaces/ns/pods`, `/apis/apps/v1/replicasets`, … */
function parsePath(path: string): { resource: string; namespace: string } | undefined {
  const parts = path.split("/").filter((p) => p !== "");
  const rest = parts[0] === "api" ? parts.slice(2) : parts[0] === "apis" ? parts.slice(3) : [];
  if (rest.length === 1) return { resource: rest[0]!, namespace: "" };
  if (rest.length === 3 && rest[0] === "namespaces") {
    return { resource: rest[2]!, namespace: decodeURIComponent(rest[1]!) };
  }
  return undefined;
}

function fieldValue(o: KObject, path: string): string {
  // deno-lint-ignore no-explicit-any
  let v: any = o;
  for (const p of path.split(".")) v = v?.[p];
  return v === undefined || v === null ? "" : String(v);
}

/** Builds a matcher for `fieldSelector` and `labelSelector` as the API server reads them. */
function selectorFilter(params: URLSearchParams): (o: KObject) => boolean {
  const tests: ((o: KObject) => boolean)[] = [];
  for (const term of (params.get("fieldSelector") ?? "").split(",").filter(Boolean)) {
    const neq = term.includes("!=");
    const [k, v] = term.split(neq ? "!=" : /==?/);
    tests.push((o) => (fieldValue(o, k!) === v) !== neq);
  }
  for (const term of (params.get("labelSelector") ?? "").split(",").filter(Boolean)) {
    const labels = (o: KObject): Record<string, string> => o.metadata?.labels ?? {};
    if (term.startsWith("!")) tests.push((o) => !(term.slice(1) in labels(o)));
    else if (term.includes("!=")) {
      const [k, v] = term.split("!=");
      tests.push((o) => labels(o)[k!] !== v);
    } else if (term.includes("=")) {
      const [k, v] = term.split(/==?/);
      tests.push((o) => labels(o)[k!] === v);
    } else tests.push((o) => term in labels(o));
  }
  return (o) => tests.every((t) => t(o));
}

function partialOf(o: KObject): KObject {
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
}

function status(code: number, reason: string, message: string): Response {
  return Response.json(
    { kind: "Status", apiVersion: "v1", status: "Failure", message, reason, code },
    { status: code },
  );
}

/** What one list (and its later pages) serves. */
interface ListSnapshot {
  count: number;
  at(i: number): KObject;
  rv: number;
}

/** Options of {@linkcode FakeKubeApi.start}. */
export interface FakeKubeApiOptions {
  /** When set, requests need `Authorization: Bearer <token>` (else 401). */
  token?: string;
  /** Serve the whole list, ignoring `limit`, when `resourceVersion=0` (as the watch cache). */
  ignoreLimitAtRv0?: boolean;
  /** Split every watch event into this many chunks (tests the stream parser). */
  splitEvents?: number;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { certPem: string; keyPem: string };
}

/** The fake server; see the module doc. */
export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  /** resource → key (`ns/name`) → object. */
  readonly #objects = new Map<string, Map<string, KObject>>();
  #history: HistoryEvent[] = [];
  /** Watches asking for a version older than this get a 410 ERROR event. */
  #compactedBelow = 0;
  #rv = 1000;
  readonly #watchers = new Set<Watcher>();
  readonly #hung = new Set<Watcher>();
  readonly #server: Deno.HttpServer;
  readonly #pages = new Map<string, ListSnapshot>();
  readonly #virtual = new Map<string, { count: number; at: (i: number) => KObject }>();
  #nextPage = 0;
  /** Token the server accepts; change it to simulate rotation. */
  token: string | undefined;
  /** Resources answered with 403 Forbidden. */
  readonly forbidden = new Set<string>();
  /** Status codes to answer the next requests with, in order (e.g. 500, 503). */
  readonly failNext: number[] = [];
  /** When true, new watches get headers and then nothing at all. */
  hangWatches = false;
  /** When set, the next list response is cut after this many bytes and the connection closed. */
  breakNextListAfter: number | undefined;
  readonly #options: FakeKubeApiOptions;
  readonly url: string;

  private constructor(options: FakeKubeApiOptions) {
    this.#options = options;
    this.token = options.token;
    const listen = { hostname: "127.0.0.1", port: 0, onListen: () => {} };
    const handler = (req: Request) => this.#handle(req);
    this.#server = options.tls === undefined
      ? Deno.serve(listen, handler)
      : Deno.serve({ ...listen, cert: options.tls.certPem, key: options.tls.keyPem }, handler);
    const addr = this.#server.addr as Deno.NetAddr;
    this.url = `${options.tls ? "https" : "http"}://127.0.0.1:${addr.port}`;
  }

  /** Starts a fake on a free loopback port. */
  static start(options: FakeKubeApiOptions = {}): FakeKubeApi {
    return new FakeKubeApi(options);
  }

  /** The current resourceVersion. */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** Open watch streams. */
  get openWatches(): number {
    return this.#watchers.size;
  }

  #store(resource: string): Map<string, KObject> {
    let m = this.#objects.get(resource);
    if (m === undefined) this.#objects.set(resource, m = new Map());
    return m;
  }

  #record(type: HistoryEvent["type"], resource: string, obj: KObject): void {
    const rv = ++this.#rv;
    obj.metadata = { ...obj.metadata, resourceVersion: String(rv) };
    const ev: HistoryEvent = { rv, type, resource, object: structuredClone(obj) };
    this.#history.push(ev);
    for (const w of this.#watchers) this.#deliver(w, ev);
  }

  #deliver(w: Watcher, ev: HistoryEvent): void {
    if (w.resource !== ev.resource) return;
    if (w.namespace !== "" && ev.object.metadata?.namespace !== w.namespace) return;
    if (!w.filter(ev.object)) return;
    const object = w.partial ? partialOf(ev.object) : ev.object;
    w.send(JSON.stringify({ type: ev.type, object }) + "\n");
  }

  /** Adds or replaces an object (ADDED or MODIFIED to watchers). */
  put(resource: string, obj: KObject): void {
    const key = `${obj.metadata?.namespace ?? ""}/${obj.metadata.name}`;
    const store = this.#store(resource);
    const existed = store.has(key);
    store.set(key, obj);
    this.#record(existed ? "MODIFIED" : "ADDED", resource, obj);
  }

  /** Adds or replaces objects without telling watchers (a fixture before the first list). */
  seed(resource: string, objects: Iterable<KObject>): void {
    const store = this.#store(resource);
    for (const obj of objects) {
      obj.metadata = { ...obj.metadata, resourceVersion: String(++this.#rv) };
      store.set(`${obj.metadata?.namespace ?? ""}/${obj.metadata.name}`, obj);
    }
    this.#compactedBelow = this.#rv;
  }

  /**
   * Serves `count` objects made by `make(i)` on the fly for lists of `resource`, never
   * storing them (for benchmarks with 100,000 pods). Selectors do not apply to them.
   */
  virtual(resource: string, count: number, make: (i: number) => KObject): void {
    this.#virtual.set(resource, { count, at: make });
  }

  /** Deletes an object (DELETED to watchers). */
  remove(resource: string, namespace: string, name: string): void {
    const store = this.#store(resource);
    const obj = store.get(`${namespace}/${name}`);
    if (obj === undefined) return;
    store.delete(`${namespace}/${name}`);
    this.#record("DELETED", resource, obj);
  }

  /** Sends a BOOKMARK carrying the current resourceVersion to every watch. */
  bookmark(): void {
    for (const w of this.#watchers) {
      w.send(
        JSON.stringify({
          type: "BOOKMARK",
          object: {
            kind: w.resource,
            metadata: {
              resourceVersion: String(this.#rv),
              annotations: { "k8s.io/initial-events-end": "true" },
            },
          },
        }) + "\n",
      );
    }
  }

  /**
   * Forgets the event history, as etcd compaction does: open watches get an ERROR event
   * with code 410 and are closed; a watch from an older version gets the same.
   */
  compact(): void {
    this.#history = [];
    this.#compactedBelow = this.#rv;
    for (const w of this.#watchers) {
      w.send(JSON.stringify({ type: "ERROR", object: this.#goneStatus() }) + "\n");
      w.close();
    }
  }

  #goneStatus(): KObject {
    return {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      message: "too old resource version",
      reason: "Expired",
      code: 410,
    };
  }

  /** Ends every open watch stream cleanly (as the server's timeout does), hung ones too. */
  closeWatches(): void {
    for (const w of [...this.#watchers, ...this.#hung]) w.close();
  }

  /** Stops the server and ends every stream. */
  async stop(): Promise<void> {
    this.closeWatches();
    await this.#server.shutdown();
  }

  /** Requests for `resource`, optionally only watches or only lists. */
  requestsFor(resource: string, kind?: "watch" | "list"): RecordedRequest[] {
    return this.requests.filter((r) =>
      r.resource === resource &&
      (kind === undefined || (r.params.get("watch") === "1") === (kind === "watch"))
    );
  }

  #handle(req: Request): Response {
    const url = new URL(req.url);
    const target = parsePath(url.pathname);
    if (target === undefined) return status(404, "NotFound", `no route ${url.pathname}`);
    const accept = req.headers.get("accept") ?? "";
    const authorization = req.headers.get("authorization") ?? "";
    this.requests.push({ ...target, params: url.searchParams, accept, authorization });
    if (this.token !== undefined && authorization !== `Bearer ${this.token}`) {
      return status(401, "Unauthorized", "Unauthorized");
    }
    const failure = this.failNext.shift();
    if (failure !== undefined) return status(failure, "InternalError", "injected failure");
    const watch = url.searchParams.get("watch") === "1";
    if (this.forbidden.has(target.resource)) {
      return status(
        403,
        "Forbidden",
        `${target.resource} is forbidden: User "system:serviceaccount:otel:collector" cannot ${
          watch ? "watch" : "list"
        } resource "${target.resource}" at the cluster scope`,
      );
    }
    const partial = accept.includes("as=PartialObjectMetadata");
    const filter = selectorFilter(url.searchParams);
    return watch
      ? this.#watch(target.resource, target.namespace, url.searchParams, partial, filter)
      : this.#list(target.resource, target.namespace, url.searchParams, partial, filter);
  }

  #list(
    resource: string,
    namespace: string,
    params: URLSearchParams,
    partial: boolean,
    filter: (o: KObject) => boolean,
  ): Response {
    const cont = params.get("continue");
    let page: ListSnapshot;
    let offset = 0;
    if (cont) {
      const [id, off] = cont.split(":");
      const snapshot = this.#pages.get(id!);
      if (snapshot === undefined) return status(410, "Expired", "continue token expired");
      page = snapshot;
      offset = Number(off);
    } else {
      const virtual = this.#virtual.get(resource);
      if (virtual !== undefined) page = { ...virtual, rv: this.#rv };
      else {
        const items = [...this.#store(resource).values()]
          .filter((o) => namespace === "" || o.metadata?.namespace === namespace)
          .filter(filter);
        page = { count: items.length, at: (i) => items[i]!, rv: this.#rv };
      }
    }
    const limitParam = Number(params.get("limit") ?? "0");
    const ignoreLimit = this.#options.ignoreLimitAtRv0 && params.get("resourceVersion") === "0";
    const limit = limitParam > 0 && !ignoreLimit ? limitParam : page.count;
    const end = Math.min(page.count, offset + limit);
    const metadata: KObject = { resourceVersion: String(page.rv) };
    if (end < page.count) {
      const id = cont ? cont.split(":")[0]! : String(++this.#nextPage);
      this.#pages.set(id, page);
      metadata.continue = `${id}:${end}`;
      metadata.remainingItemCount = page.count - end;
    }
    const kind = partial ? "PartialObjectMetadataList" : "List";
    let breakAfter = this.breakNextListAfter;
    this.breakNextListAfter = undefined;
    let written = 0;
    let i = offset;
    let headerSent = false;
    // Pulled a few items at a time, so a large list streams instead of being built whole.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        let text = "";
        if (!headerSent) {
          headerSent = true;
          text = `{"kind":"${kind}","apiVersion":"v1","metadata":${
            JSON.stringify(metadata)
          },"items":[`;
        }
        for (let n = 0; n < 64 && i < end; n++, i++) {
          const item = partial ? partialOf(page.at(i)) : page.at(i);
          text += (i === offset ? "" : ",") + JSON.stringify(item);
        }
        const last = i >= end;
        if (last) text += "]}\n";
        const bytes = encoder.encode(text);
        if (breakAfter !== undefined && written + bytes.length > breakAfter) {
          // The body ends mid-document, as a dropped connection.
          controller.enqueue(bytes.subarray(0, Math.max(0, breakAfter - written)));
          controller.close();
          breakAfter = undefined;
          return;
        }
        written += bytes.length;
        controller.enqueue(bytes);
        if (last) controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  }

  #watch(
    resource: string,
    namespace: string,
    params: URLSearchParams,
    partial: boolean,
    filter: (o: KObject) => boolean,
  ): Response {
    const from = Number(params.get("resourceVersion") ?? "0");
    const split = this.#options.splitEvents ?? 1;
    let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
    const watchers = this.#watchers;
    const hung = this.#hung;
    const watcher: Watcher = {
      resource,
      namespace,
      filter,
      partial,
      send: (text) => {
        if (controllerRef === undefined) return;
        const bytes = encoder.encode(text);
        const step = Math.ceil(bytes.length / split);
        for (let off = 0; off < bytes.length; off += step) {
          controllerRef.enqueue(bytes.slice(off, off + step));
        }
      },
      close: () => {
        watchers.delete(watcher);
        hung.delete(watcher);
        try {
          controllerRef?.close();
        } catch {
          // already closed
        }
        controllerRef = undefined;
      },
    };
    const hang = this.hangWatches;
    const gone = from !== 0 && from < this.#compactedBelow;
    const backlog = this.#history.filter((ev) => ev.rv > from);
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        controllerRef = controller;
        if (hang) {
          hung.add(watcher);
          return;
        }
        if (gone) {
          watcher.send(JSON.stringify({ type: "ERROR", object: this.#goneStatus() }) + "\n");
          watcher.close();
          return;
        }
        watchers.add(watcher);
        for (const ev of backlog) this.#deliver(watcher, ev);
      },
      cancel: () => {
        watchers.delete(watcher);
        hung.delete(watcher);
        controllerRef = undefined;
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  }
}

/** Options of {@linkcode podFixture}. */
export interface PodFixtureOptions {
  name: string;
  namespace?: string;
  uid?: string;
  node?: string;
  ip?: string;
  hostNetwork?: boolean;
  /** `spec.hostname`. */
  hostname?: string;
  creationTimestamp?: string;
  /** Owner: `ReplicaSet`, `StatefulSet`, `DaemonSet`, `Job` (name `ownerName`). */
  ownerKind?: string;
  ownerName?: string;
  ownerUid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Containers as [name, image]; default one `app` container. */
  containers?: [string, string][];
  /** Bytes of `kubectl.kubernetes.io/last-applied-configuration` to add (0 for none). */
  lastAppliedBytes?: number;
}

/**
 * A pod shaped like what an API server returns (managedFields, conditions, statuses with
 * containerd ids and repo digests), with the given fields.
 */
export function podFixture(o: PodFixtureOptions): KObject {
  const namespace = o.namespace ?? "default";
  const uid = o.uid ?? `uid-${namespace}-${o.name}`;
  const created = o.creationTimestamp ?? "2026-11-30T10:00:00Z";
  const containers = o.containers ?? [["app", "registry.example.com/team/app:1.4.2"]];
  const annotations: Record<string, string> = { ...o.annotations };
  if (o.lastAppliedBytes) {
    annotations["kubectl.kubernetes.io/last-applied-configuration"] = JSON.stringify({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: o.ownerName ?? o.name, namespace },
      spec: { template: { spec: { containers: [{ name: "app", args: [] }] } } },
      padding: "x".repeat(o.lastAppliedBytes),
    });
  }
  const ownerReferences = o.ownerKind === undefined ? undefined : [{
    apiVersion: o.ownerKind === "Job" ? "batch/v1" : "apps/v1",
    kind: o.ownerKind,
    name: o.ownerName ?? "owner",
    uid: o.ownerUid ?? `uid-${o.ownerName ?? "owner"}`,
    controller: true,
    blockOwnerDeletion: true,
  }];
  const hex = (s: string) =>
    Array.from(s).map((c) => c.charCodeAt(0).toString(16)).join("").padEnd(64, "0").slice(0, 64);
  return {
    kind: "Pod",
    apiVersion: "v1",
    metadata: {
      name: o.name,
      generateName: o.ownerName ? `${o.ownerName}-` : undefined,
      namespace,
      uid,
      creationTimestamp: created,
      labels: o.labels,
      annotations: Object.keys(annotations).length === 0 ? undefined : annotations,
      ownerReferences,
      managedFields: [{
        manager: "kube-controller-manager",
        operation: "Update",
        apiVersion: "v1",
        time: created,
        fieldsType: "FieldsV1",
        fieldsV1: { "f:metadata": { "f:labels": { ".": {} } }, "f:spec": { "f:containers": {} } },
      }],
    },
    spec: {
      nodeName: o.node ?? "node-1",
      hostNetwork: o.hostNetwork || undefined,
      hostname: o.hostname,
      serviceAccountName: "default",
      containers: containers.map(([name, image]) => ({
        name,
        image,
        resources: { requests: { cpu: "100m", memory: "128Mi" } },
        terminationMessagePath: "/dev/termination-log",
        imagePullPolicy: "IfNotPresent",
      })),
      restartPolicy: "Always",
      dnsPolicy: "ClusterFirst",
      tolerations: [{
        key: "node.kubernetes.io/not-ready",
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds: 300,
      }],
    },
    status: {
      phase: "Running",
      hostIP: "192.168.0.10",
      podIP: o.ip,
      podIPs: o.ip ? [{ ip: o.ip }] : undefined,
      startTime: created,
      conditions: [
        { type: "Ready", status: "True", lastTransitionTime: created },
        { type: "PodScheduled", status: "True", lastTransitionTime: created },
      ],
      containerStatuses: containers.map(([name, image]) => ({
        name,
        image,
        imageID: `${image.split(":")[0]}@sha256:${hex(image)}`,
        containerID: `containerd://${hex(uid + name)}`,
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: created } },
      })),
    },
  };
}
