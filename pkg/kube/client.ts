/**
 * A small Kubernetes API client over `fetch`: paginated, streamed LIST and WATCH of one
 * resource type, which is all an informer needs. TLS with the cluster CA and client
 * certificates goes through `Deno.createHttpClient`; `insecure-skip-tls-verify` (which
 * `fetch` cannot do) through node:https.
 *
 * @module
 */

import https from "node:https";
import { LoopTurns } from "../../core/async.ts";
import type { KubeClientConfig } from "./config.ts";
import { LineStreamParser, ListStreamParser } from "./json_stream.ts";

/** A resource type of the API: its group, version and plural name. */
export interface ResourceType {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** Pods (core/v1). */
export const PODS: ResourceType = { group: "", version: "v1", plural: "pods" };
/** Namespaces (core/v1). */
export const NAMESPACES: ResourceType = { group: "", version: "v1", plural: "namespaces" };
/** Nodes (core/v1). */
export const NODES: ResourceType = { group: "", version: "v1", plural: "nodes" };
/** ReplicaSets (apps/v1). */
export const REPLICASETS: ResourceType = { group: "apps", version: "v1", plural: "replicasets" };
/** Jobs (batch/v1). */
export const JOBS: ResourceType = { group: "batch", version: "v1", plural: "jobs" };

/** What to list or watch. */
export interface QueryOptions {
  /** Only this namespace (namespaced resources); "" for all. */
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
  /** Ask for `PartialObjectMetadata` (metadata only) instead of whole objects. */
  metadataOnly?: boolean;
}

/** One event of a watch. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: KubeObject;
}

/** The part of every Kubernetes object the client itself reads. */
export interface KubeObject {
  metadata?: { resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** An HTTP error from the API server, naming what was refused. */
export class KubeApiError extends Error {
  /** Builds the error for `status` on `verb` of `resource`. */
  constructor(
    message: string,
    readonly status: number,
    readonly verb: string,
    readonly resource: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

/** The watch's resourceVersion is too old (HTTP 410 or a 410 ERROR event): list again. */
export class ResourceExpiredError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "ResourceExpiredError";
  }
}

interface RawResponse {
  status: number;
  body: ReadableStream<Uint8Array>;
}

/** Display name of a resource type for messages and RBAC hints: `pods`, `replicasets.apps`. */
export function resourceName(res: ResourceType): string {
  return res.group === "" ? res.plural : `${res.plural}.${res.group}`;
}

/** The URL path of a resource type's collection. */
export function resourcePath(res: ResourceType, namespace = ""): string {
  const base = res.group === "" ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
  return namespace === ""
    ? `${base}/${res.plural}`
    : `${base}/namespaces/${encodeURIComponent(namespace)}/${res.plural}`;
}

const PARTIAL_LIST_ACCEPT =
  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const PARTIAL_ACCEPT =
  "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

async function readText(body: ReadableStream<Uint8Array>, limit = 64 * 1024): Promise<string> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    n += chunk.length;
    if (n >= limit) break;
  }
  const all = new Uint8Array(Math.min(n, limit));
  let off = 0;
  for (const c of chunks) {
    const part = c.subarray(0, all.length - off);
    all.set(part, off);
    off += part.length;
  }
  return new TextDecoder().decode(all);
}

/** Bytes parsed between checks of the time spent (about a dozen pods). */
const SLICE_BYTES = 64 * 1024;
/** Longest stretch of parsing before yielding to the event loop. */
const SLICE_MS = 5;

/** Tuning of a {@linkcode KubeClient}. */
export interface ClientOptions {
  /** `limit` of each list request. @default 500 */
  pageSize?: number;
  /** Drop a response that sends no byte for this long. @default 15 min (watches end at 5–10 min) */
  idleTimeoutMs?: number;
}

/** Aborts when `reset` was not called for `ms`. */
class IdleTimer {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #timer: ReturnType<typeof setTimeout>;

  constructor(ms: number) {
    this.#ms = ms;
    this.#timer = setTimeout(() => this.#controller.abort(), ms);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get fired(): boolean {
    return this.#controller.signal.aborted;
  }

  reset(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#controller.abort(), this.#ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** The list/watch client of one API server. */
export class KubeClient {
  readonly config: KubeClientConfig;
  readonly #httpClient: Deno.HttpClient | undefined;
  /** Items per list page. */
  readonly pageSize: number;
  readonly #turns = new LoopTurns(SLICE_MS);
  /** A list or watch that sends nothing for this long is dropped (a hung connection). */
  readonly idleTimeoutMs: number;

  /** Builds a client; `pageSize` is the `limit` of each list request. */
  constructor(config: KubeClientConfig, tuning: ClientOptions = {}) {
    this.config = config;
    this.pageSize = tuning.pageSize ?? 500;
    this.idleTimeoutMs = tuning.idleTimeoutMs ?? 15 * 60_000;
    const options: Deno.CreateHttpClientOptions & { cert?: string; key?: string } = {};
    if (config.caPem !== undefined) options.caCerts = [config.caPem];
    if (config.certPem !== undefined && config.keyPem !== undefined) {
      options.cert = config.certPem;
      options.key = config.keyPem;
    }
    this.#httpClient = !config.insecureSkipTlsVerify && config.server.startsWith("https:")
      ? Deno.createHttpClient(options)
      : undefined;
  }

  /** Releases the connection pool. */
  close(): void {
    this.#httpClient?.close();
  }

  async #headers(accept: string): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept, "user-agent": "otelcol-deno" };
    if (this.config.token) headers.authorization = `Bearer ${await this.config.token.token()}`;
    return headers;
  }

  async #get(url: string, accept: string, signal: AbortSignal): Promise<RawResponse> {
    let resp = await this.#send(url, await this.#headers(accept), signal);
    if (resp.status === 401 && this.config.token) {
      // A rotated token: read the file again and retry once.
      await resp.body.cancel().catch(() => {});
      this.config.token.invalidate();
      resp = await this.#send(url, await this.#headers(accept), signal);
    }
    return resp;
  }

  async #send(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<RawResponse> {
    if (this.config.insecureSkipTlsVerify && url.startsWith("https:")) {
      return await this.#sendNode(url, headers, signal);
    }
    const resp = await fetch(url, { headers, signal, client: this.#httpClient });
    return { status: resp.status, body: resp.body ?? ReadableStream.from([]) };
  }

  #sendNode(url: string, headers: Record<string, string>, signal: AbortSignal) {
    return new Promise<RawResponse>((resolve, reject) => {
      const req = https.request(url, {
        headers,
        signal,
        rejectUnauthorized: false,
        ca: this.config.caPem,
        cert: this.config.certPem,
        key: this.config.keyPem,
      }, (res) => {
        resolve({
          status: res.statusCode ?? 0,
          body: ReadableStream.from(res as AsyncIterable<Uint8Array>),
        });
      });
      req.on("error", reject);
      req.end();
    });
  }

  async #fail(resp: RawResponse, verb: string, res: ResourceType): Promise<never> {
    const text = await readText(resp.body).catch(() => "");
    let detail = text.trim().slice(0, 300);
    try {
      const status = JSON.parse(text) as { message?: string };
      if (status.message) detail = status.message;
    } catch {
      // not a Status object; keep the text
    }
    const name = resourceName(res);
    const group = res.group === "" ? '""' : res.group;
    if (resp.status === 401) {
      throw new KubeApiError(
        `Kubernetes API refused ${verb} ${name} with 401 Unauthorized using ${this.config.describe}: ` +
          `the credentials are missing, expired or not accepted (${detail})`,
        401,
        verb,
        name,
      );
    }
    if (resp.status === 403) {
      throw new KubeApiError(
        `Kubernetes API refused ${verb} ${name} with 403 Forbidden using ${this.config.describe}: ` +
          `grant the ServiceAccount the verb "${verb}" on resource "${res.plural}" in apiGroup ${group} ` +
          `(a ClusterRole, or a Role with filter::namespace) (${detail})`,
        403,
        verb,
        name,
      );
    }
    if (resp.status === 410) {
      throw new ResourceExpiredError(`${verb} ${name}: 410 Gone (${detail})`);
    }
    throw new KubeApiError(
      `Kubernetes API answered ${verb} ${name} with HTTP ${resp.status} (${detail})`,
      resp.status,
      verb,
      name,
    );
  }

  /**
   * Hands `chunk` to `onChunk` in slices, yielding to the event loop whenever parsing has held
   * it for {@linkcode SLICE_MS}: a fast server can deliver megabytes in one read.
   */
  async #feedSliced(
    chunk: Uint8Array,
    onChunk: (chunk: Uint8Array) => boolean,
  ): Promise<boolean> {
    for (let off = 0; off < chunk.length; off += SLICE_BYTES) {
      if (!onChunk(chunk.subarray(off, off + SLICE_BYTES))) return false;
      await this.#turns.pause();
    }
    return true;
  }

  /** GETs `url` and hands each body chunk to `onChunk` until it returns false or the body ends. */
  async #stream(
    verb: string,
    res: ResourceType,
    url: string,
    accept: string,
    signal: AbortSignal,
    onChunk: (chunk: Uint8Array) => boolean,
  ): Promise<void> {
    const idle = new IdleTimer(this.idleTimeoutMs);
    try {
      const both = AbortSignal.any([signal, idle.signal]);
      const resp = await this.#get(url, accept, both);
      if (resp.status !== 200) await this.#fail(resp, verb, res);
      // Cancelling the reader ends a pending read at once; an aborted fetch alone was seen
      // to leave a read of a busy stream pending forever (Deno 2.9).
      const reader = resp.body.getReader();
      const cancel = () => void reader.cancel().catch(() => {});
      both.addEventListener("abort", cancel);
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || both.aborted) break;
          idle.reset();
          if (!(await this.#feedSliced(value, onChunk))) break;
        }
        if (both.aborted) throw both.reason ?? new DOMException("aborted", "AbortError");
      } finally {
        both.removeEventListener("abort", cancel);
        cancel();
      }
    } catch (err) {
      if (idle.fired && !signal.aborted) {
        throw new Error(
          `${verb} ${resourceName(res)}: no data for ${this.idleTimeoutMs / 1000}s, reconnecting`,
          { cause: err },
        );
      }
      throw err;
    } finally {
      idle.clear();
    }
  }

  #url(res: ResourceType, opts: QueryOptions, params: Record<string, string>): string {
    const q = new URLSearchParams();
    if (opts.fieldSelector) q.set("fieldSelector", opts.fieldSelector);
    if (opts.labelSelector) q.set("labelSelector", opts.labelSelector);
    for (const [k, v] of Object.entries(params)) q.set(k, v);
    return `${this.config.server}${resourcePath(res, opts.namespace)}?${q}`;
  }

  /**
   * Lists every object, page by page (`limit`/`continue`), the first page with
   * `resourceVersion=0` so the API server answers from its watch cache. Each item goes to
   * `onItem` as it is parsed. Resolves with the list's resourceVersion (where a watch
   * resumes).
   */
  async list(
    res: ResourceType,
    opts: QueryOptions,
    onItem: (obj: KubeObject) => void,
    signal: AbortSignal,
  ): Promise<string> {
    let cont = "";
    let resourceVersion = "";
    const accept = opts.metadataOnly ? PARTIAL_LIST_ACCEPT : "application/json";
    do {
      // As client-go's pager: later pages carry `continue` only (it pins the version).
      const params: Record<string, string> = { limit: String(this.pageSize) };
      if (cont === "") params.resourceVersion = "0";
      else params.continue = cont;
      const parser = new ListStreamParser((item) => onItem(item as KubeObject));
      await this.#stream("list", res, this.#url(res, opts, params), accept, signal, (chunk) => {
        parser.feed(chunk);
        return true;
      });
      parser.finish();
      cont = parser.meta.continue ?? "";
      resourceVersion = parser.meta.resourceVersion ?? resourceVersion;
    } while (cont !== "");
    return resourceVersion;
  }

  /**
   * Watches from `resourceVersion` with bookmarks; `onEvent` gets each event. Resolves when
   * the server ends the stream (a reconnect is due) with the last resourceVersion seen;
   * throws {@linkcode ResourceExpiredError} when the version is too old (relist).
   */
  async watch(
    res: ResourceType,
    opts: QueryOptions,
    resourceVersion: string,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<string> {
    const params = {
      watch: "1",
      allowWatchBookmarks: "true",
      resourceVersion,
      // As client-go: a random server-side timeout spreads reconnects of many agents.
      timeoutSeconds: String(300 + Math.floor(Math.random() * 300)),
    };
    const accept = opts.metadataOnly ? PARTIAL_ACCEPT : "application/json";
    let rv = resourceVersion;
    let expired: string | undefined;
    const parser = new LineStreamParser((value) => {
      const ev = value as { type?: string; object?: KubeObject };
      if (ev.type === "ERROR") {
        const status = ev.object as { code?: number; message?: string } | undefined;
        if (status?.code === 410) expired = status.message ?? "410 Gone";
        else {
          throw new KubeApiError(
            `watch ${resourceName(res)}: ERROR event (${status?.message ?? "no message"})`,
            status?.code ?? 0,
            "watch",
            resourceName(res),
          );
        }
        return;
      }
      if (ev.object === undefined || typeof ev.type !== "string") return;
      rv = ev.object.metadata?.resourceVersion ?? rv;
      onEvent(ev as WatchEvent);
    });
    await this.#stream("watch", res, this.#url(res, opts, params), accept, signal, (chunk) => {
      parser.feed(chunk);
      return expired === undefined;
    });
    if (expired === undefined) parser.finish();
    if (expired !== undefined) {
      throw new ResourceExpiredError(`watch ${resourceName(res)}: ${expired}`);
    }
    return rv;
  }
}
