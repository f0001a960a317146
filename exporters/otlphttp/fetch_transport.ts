/**
 * The `fetch` transport of an `otlp_http` exporter: a `Deno.HttpClient` built from its TLS,
 * proxy and pool settings (certificate files are read at start).
 *
 * @module
 */

import type { OtlpHttpConfig } from "./config.ts";
import {
  concatLimited,
  type HttpAnswer,
  readPem,
  type RequestBody,
  type Transport,
} from "./transport.ts";

/**
 * Creates the client. `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` are honoured by Deno itself when
 * `proxy_url` is empty; `proxy_url` overrides them.
 */
async function createClient(cfg: OtlpHttpConfig): Promise<Deno.HttpClient> {
  const ca = await readPem("ca_file", cfg.tls.caFile, cfg.tls.caPem);
  const cert = await readPem("cert_file", cfg.tls.certFile, cfg.tls.certPem);
  const key = await readPem("key_file", cfg.tls.keyFile, cfg.tls.keyPem);
  const options: Deno.CreateHttpClientOptions & { cert?: string; key?: string } = {
    http2: cfg.http2,
    allowHost: Object.keys(cfg.headers).some((h) => h.toLowerCase() === "host"),
  };
  if (ca !== undefined) options.caCerts = [ca];
  if (cert !== undefined && key !== undefined) {
    options.cert = cert;
    options.key = key;
  }
  if (cfg.proxyUrl !== "") options.proxy = { url: cfg.proxyUrl };
  if (cfg.maxIdlePerHost !== undefined) options.poolMaxIdlePerHost = cfg.maxIdlePerHost;
  if (cfg.idleConnTimeoutMs !== undefined) {
    options.poolIdleTimeout = cfg.idleConnTimeoutMs === 0 ? false : cfg.idleConnTimeoutMs;
  }
  try {
    return Deno.createHttpClient(options);
  } catch (err) {
    throw new Error(
      `Cannot set up the HTTP client (check tls::ca_file, cert_file, key_file and proxy_url): ${
        err instanceof Error ? err.message : err
      }`,
      { cause: err },
    );
  }
}

/** Reads at most `limit` bytes of a response body, then drops the rest. */
async function readLimited(resp: Response, limit: number): Promise<Uint8Array> {
  if (resp.body === null) return new Uint8Array(0);
  const reader = resp.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.length;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return concatLimited(chunks, limit);
}

/** POSTs with `fetch` through a `Deno.HttpClient`. */
export class FetchTransport implements Transport {
  readonly #client: Deno.HttpClient;

  private constructor(client: Deno.HttpClient) {
    this.#client = client;
  }

  /** Builds the transport, reading certificate files. */
  static async create(cfg: OtlpHttpConfig): Promise<FetchTransport> {
    return new FetchTransport(await createClient(cfg));
  }

  async post(
    url: string,
    body: RequestBody,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<HttpAnswer> {
    const resp = await fetch(url, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer> | Blob,
      headers,
      client: this.#client,
      signal,
    });
    return {
      status: resp.status,
      header: (name) => resp.headers.get(name),
      readBody: (limit) => readLimited(resp, limit),
    };
  }

  close(): void {
    this.#client.close();
  }
}
