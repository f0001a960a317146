/**
 * The node:https transport of an `otlp_http` exporter, for the TLS settings Deno's `fetch`
 * client cannot apply: `insecure_skip_verify`, `server_name_override`, `min_version: "1.3"`
 * and `max_version: "1.2"` (checked here: Deno's node:tls honours all four). HTTP/1.1 with
 * keep-alive; no proxy, so a proxy the environment sets for the endpoint is a start error
 * rather than silently bypassed.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";
import https from "node:https";
import type { OtlpHttpConfig } from "./config.ts";
import {
  concatLimited,
  envProxyFor,
  type HttpAnswer,
  nodeTlsKeys,
  readPem,
  type RequestBody,
  type Transport,
} from "./transport.ts";

/** Reads at most `limit` bytes of `res`, then drops the rest (and its connection). */
function readLimited(res: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let n = 0;
    let settled = false;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      if (err === undefined) resolve(concatLimited(chunks, limit));
      else reject(err);
    };
    res.on("data", (chunk: Uint8Array) => {
      chunks.push(chunk);
      n += chunk.length;
      if (n >= limit) {
        finish();
        res.destroy();
      }
    });
    res.on("end", () => finish());
    res.on("error", (err) => finish(err));
    res.on("close", () => finish(new Error("the connection closed before the answer ended")));
  });
}

/** POSTs with node:https and the TLS options `fetch` lacks. */
export class NodeTlsTransport implements Transport {
  readonly #agent: https.Agent;
  readonly #tls: https.RequestOptions;

  private constructor(agent: https.Agent, tls: https.RequestOptions) {
    this.#agent = agent;
    this.#tls = tls;
  }

  /** Builds the transport, reading certificate files; refuses to bypass a proxy. */
  static async create(
    cfg: OtlpHttpConfig,
    env: (name: string) => string | undefined = (n) => Deno.env.get(n),
  ): Promise<NodeTlsTransport> {
    const proxy = envProxyFor(new URL(cfg.logsUrl), env);
    if (proxy !== "") {
      throw new Error(
        `${nodeTlsKeys(cfg.tls).join(", ")} cannot be used through a proxy, and the ` +
          `environment sets ${proxy} for ${new URL(cfg.logsUrl).host}: add the host to NO_PROXY ` +
          "or remove the setting",
      );
    }
    const t = cfg.tls;
    const ca = await readPem("ca_file", t.caFile, t.caPem);
    const cert = await readPem("cert_file", t.certFile, t.certPem);
    const key = await readPem("key_file", t.keyFile, t.keyPem);
    const agent = new https.Agent({
      keepAlive: cfg.maxIdlePerHost !== 0,
      maxFreeSockets: cfg.maxIdlePerHost ?? 100,
    });
    // Given with every request (they also key the agent's connection pool).
    const tls: https.RequestOptions = {
      rejectUnauthorized: !t.insecureSkipVerify,
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
      ...(t.serverNameOverride !== "" ? { servername: t.serverNameOverride } : {}),
      ...(t.minVersion === "1.3" ? { minVersion: "TLSv1.3" as const } : {}),
      ...(t.maxVersion === "1.2" ? { maxVersion: "TLSv1.2" as const } : {}),
    };
    return new NodeTlsTransport(agent, tls);
  }

  post(
    url: string,
    body: RequestBody,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<HttpAnswer> {
    return body instanceof Blob
      ? body.bytes().then((bytes) => this.#post(url, bytes, headers, signal))
      : this.#post(url, body, headers, signal);
  }

  #post(
    url: string,
    body: Uint8Array,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const req = https.request(url, {
        ...this.#tls,
        method: "POST",
        agent: this.#agent,
        headers: { ...headers, "content-length": String(body.length) },
      }, (res) => {
        resolve({
          status: res.statusCode ?? 0,
          header: (name) => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
          },
          readBody: (limit) => readLimited(res, limit),
        });
      });
      const onAbort = (): void => {
        req.destroy(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      req.on("close", () => signal.removeEventListener("abort", onAbort));
      req.on("error", reject);
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
