/**
 * Builds the `Deno.HttpClient` of an `otlp_http` exporter from its TLS, proxy and pool
 * settings, reading certificate files at start.
 *
 * @module
 */

import type { OtlpHttpConfig } from "./config.ts";

async function readPem(key: string, file: string, pem: string): Promise<string | undefined> {
  if (pem !== "") return pem;
  if (file === "") return undefined;
  try {
    return await Deno.readTextFile(file);
  } catch (err) {
    throw new Error(
      `tls::${key}: cannot read ${JSON.stringify(file)}: ${
        err instanceof Error ? err.message : err
      }`,
      { cause: err },
    );
  }
}

/**
 * Creates the client. `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` are honoured by Deno itself when
 * `proxy_url` is empty; `proxy_url` overrides them.
 */
export async function createClient(cfg: OtlpHttpConfig): Promise<Deno.HttpClient> {
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
