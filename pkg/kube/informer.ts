/**
 * Informers: LIST then WATCH one resource type, keeping a projection of each object (never
 * the object itself) and telling subscribers what was added, updated and deleted. One
 * informer per (API server, resource type, namespace, selectors) serves the whole process:
 * {@linkcode acquireInformer} shares it between subscribers and stops it when the last one
 * leaves. A subscriber that needs more fields widens the projection, which relists once.
 *
 * Recovery: a watch the server ends is resumed from the last resourceVersion (bookmarks keep
 * it fresh); `410 Gone` relists; dropped connections, 5xx, 401 and 403 retry with capped
 * exponential backoff and jitter, the error kept in `lastError` and logged once per change.
 *
 * @module
 */

import type { Logger } from "../../core/telemetry/logger.ts";
import {
  type ClientOptions,
  KubeApiError,
  KubeClient,
  type KubeObject,
  type QueryOptions,
  ResourceExpiredError,
  resourceName,
  type ResourceType,
  type WatchEvent,
} from "./client.ts";
import type { KubeClientConfig } from "./config.ts";

/** How a subscriber's needs turn objects into projections, and how needs combine. */
export interface Projection<S, T> {
  /** Needs that cover both `a` and `b`. */
  merge(a: S, b: S): S;
  /** True when `have` already keeps everything `want` needs. */
  covers(have: S, want: S): boolean;
  /** The projector for `spec`; returns undefined to skip an object. */
  project(spec: S): (obj: KubeObject) => T | undefined;
}

/** What a subscriber is told. */
export interface InformerHandler<T> {
  add(item: T): void;
  update(old: T, item: T): void;
  delete(item: T): void;
  /** Called after each complete list (the first one is the initial sync). */
  synced?(): void;
}

/** Retry timing. */
export interface BackoffOptions {
  /** @default 800 */
  initialMs?: number;
  /** @default 30000 */
  maxMs?: number;
}

/** Delay before retry number `attempt` (1-based): doubling, capped, with jitter in [½, 1]. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const initial = opts.initialMs ?? 800;
  const max = opts.maxMs ?? 30_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt - 1, 30));
  return ceiling * (0.5 + Math.random() * 0.5);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

function objectKey(obj: KubeObject): string {
  const m = obj.metadata as { uid?: string; namespace?: string; name?: string } | undefined;
  return m?.uid ?? `${m?.namespace ?? ""}/${m?.name ?? ""}`;
}

/** One running list/watch of one resource type. */
export class Informer<S, T> {
  readonly resource: ResourceType;
  readonly options: QueryOptions;
  readonly #client: KubeClient;
  readonly #projection: Projection<S, T>;
  #spec: S;
  #project: (obj: KubeObject) => T | undefined;
  readonly #store = new Map<string, T>();
  readonly #handlers = new Set<InformerHandler<T>>();
  readonly #abort = new AbortController();
  #watchAbort = new AbortController();
  #relistWanted = false;
  #running: Promise<void> | undefined;
  #synced = false;
  #resolveSynced!: () => void;
  /** Resolves at the first complete list. */
  readonly synced: Promise<void>;
  /** The last error (cleared by a successful list or watch). */
  lastError: Error | undefined;
  /** Lists performed (the first one and every relist). */
  lists = 0;
  readonly #logger: Logger;
  readonly #backoff: BackoffOptions;

  /** Builds an informer; nothing is requested before `start`. */
  constructor(
    client: KubeClient,
    resource: ResourceType,
    options: QueryOptions,
    projection: Projection<S, T>,
    spec: S,
    logger: Logger,
    backoff: BackoffOptions = {},
  ) {
    this.#client = client;
    this.resource = resource;
    this.options = options;
    this.#projection = projection;
    this.#spec = spec;
    this.#project = projection.project(spec);
    this.#logger = logger;
    this.#backoff = backoff;
    this.synced = new Promise((resolve) => this.#resolveSynced = resolve);
  }

  /** Adds a subscriber; it is told about every object already kept. */
  subscribe(handler: InformerHandler<T>, spec: S): void {
    if (!this.#projection.covers(this.#spec, spec)) {
      this.#spec = this.#projection.merge(this.#spec, spec);
      this.#project = this.#projection.project(this.#spec);
      if (this.#running !== undefined) {
        this.#relistWanted = true;
        this.#watchAbort.abort();
      }
    }
    this.#handlers.add(handler);
    for (const item of this.#store.values()) handler.add(item);
    if (this.#synced) handler.synced?.();
  }

  /** Removes a subscriber; returns how many remain. */
  unsubscribe(handler: InformerHandler<T>): number {
    this.#handlers.delete(handler);
    return this.#handlers.size;
  }

  /** Starts listing and watching in the background. */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Stops the watch and waits for the loop to end. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#watchAbort.abort();
    await this.#running;
    this.#client.close();
  }

  #emit(fn: (h: InformerHandler<T>) => void): void {
    for (const h of this.#handlers) fn(h);
  }

  #upsert(obj: KubeObject): void {
    const key = objectKey(obj);
    const item = this.#project(obj);
    const old = this.#store.get(key);
    if (item === undefined) {
      if (old !== undefined) this.#remove(key, old);
      return;
    }
    this.#store.set(key, item);
    if (old === undefined) this.#emit((h) => h.add(item));
    else this.#emit((h) => h.update(old, item));
  }

  #remove(key: string, old: T): void {
    this.#store.delete(key);
    this.#emit((h) => h.delete(old));
  }

  async #list(signal: AbortSignal): Promise<string> {
    this.lists++;
    const seen = new Set<string>();
    const rv = await this.#client.list(this.resource, this.options, (obj) => {
      seen.add(objectKey(obj));
      this.#upsert(obj);
    }, signal);
    for (const [key, old] of this.#store) if (!seen.has(key)) this.#remove(key, old);
    if (!this.#synced) {
      this.#synced = true;
      this.#resolveSynced();
    }
    this.#emit((h) => h.synced?.());
    return rv;
  }

  #onEvent(ev: WatchEvent): void {
    if (ev.type === "ADDED" || ev.type === "MODIFIED") this.#upsert(ev.object);
    else if (ev.type === "DELETED") {
      const key = objectKey(ev.object);
      const old = this.#store.get(key);
      if (old !== undefined) this.#remove(key, old);
    }
  }

  #setError(err: Error): void {
    if (this.lastError?.message !== err.message) {
      const forbidden = err instanceof KubeApiError && (err.status === 401 || err.status === 403);
      (forbidden ? this.#logger.error : this.#logger.warn)(
        `${resourceName(this.resource)} informer: ${err.message}; retrying with backoff`,
      );
    }
    this.lastError = err;
  }

  async #run(): Promise<void> {
    const stop = this.#abort.signal;
    let rv = "";
    let attempt = 0;
    while (!stop.aborted) {
      this.#watchAbort = new AbortController();
      const signal = AbortSignal.any([stop, this.#watchAbort.signal]);
      try {
        if (rv === "" || this.#relistWanted) {
          this.#relistWanted = false;
          rv = await this.#list(signal);
          this.lastError = undefined;
        }
        let events = 0;
        rv = await this.#client.watch(this.resource, this.options, rv, (ev) => {
          this.#onEvent(ev);
          events++;
          attempt = 0;
          this.lastError = undefined;
        }, signal);
        // A server that ends every watch at once must not make us spin.
        if (events === 0) await sleep(backoffDelay(++attempt, this.#backoff), stop);
      } catch (err) {
        if (stop.aborted) break;
        if (this.#watchAbort.signal.aborted) continue; // widened: relist at once
        if (err instanceof ResourceExpiredError) {
          this.#logger.info(`${resourceName(this.resource)} informer: ${err.message}; relisting`);
          rv = "";
          continue;
        }
        this.#setError(err instanceof Error ? err : new Error(String(err)));
        attempt++;
        await sleep(backoffDelay(attempt, this.#backoff), stop);
      }
    }
  }
}

interface Shared {
  // deno-lint-ignore no-explicit-any
  informer: Informer<any, any>;
  refs: number;
}

const shared = new Map<string, Shared>();

/** Options of {@linkcode acquireInformer}. */
export interface AcquireOptions<S, T> {
  config: KubeClientConfig;
  resource: ResourceType;
  query: QueryOptions;
  projection: Projection<S, T>;
  spec: S;
  handler: InformerHandler<T>;
  logger: Logger;
  backoff?: BackoffOptions;
  client?: ClientOptions;
}

/** A subscription to a shared informer; `release` once per acquire. */
export interface InformerLease<T> {
  readonly informer: Informer<unknown, T>;
  release(): Promise<void>;
}

function sharedKey(config: KubeClientConfig, res: ResourceType, q: QueryOptions): string {
  return JSON.stringify([
    config.server,
    config.describe,
    resourceName(res),
    q.namespace ?? "",
    q.fieldSelector ?? "",
    q.labelSelector ?? "",
    q.metadataOnly ?? false,
  ]);
}

/**
 * Subscribes to the process-wide informer of this (server, resource, query), starting it on
 * first use. Every acquire must be released; the last release stops the informer.
 */
export function acquireInformer<S, T>(opts: AcquireOptions<S, T>): InformerLease<T> {
  const key = sharedKey(opts.config, opts.resource, opts.query);
  let entry = shared.get(key);
  if (entry === undefined) {
    const informer = new Informer(
      new KubeClient(opts.config, opts.client),
      opts.resource,
      opts.query,
      opts.projection,
      opts.spec,
      opts.logger,
      opts.backoff,
    );
    entry = { informer, refs: 0 };
    shared.set(key, entry);
  }
  entry.refs++;
  const informer = entry.informer as Informer<S, T>;
  informer.subscribe(opts.handler, opts.spec);
  informer.start();
  let released = false;
  return {
    informer: informer as unknown as Informer<unknown, T>,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      informer.unsubscribe(opts.handler);
      if (--entry.refs === 0) {
        shared.delete(key);
        await informer.stop();
      }
    },
  };
}

/** How many shared informers run in this process (for tests). */
export function sharedInformerCount(): number {
  return shared.size;
}
