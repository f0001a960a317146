/**
 * How an `otlp_http` exporter POSTs a request, and helpers both ways share. Two implementations:
 * - `fetch` with a `Deno.HttpClient` (fetch_transport.ts): HTTP/1.1 and HTTP/2, proxies, CA and
 *   client certificates. Used unless a TLS setting below needs the other.
 * - node:https (node_tls_transport.ts): HTTP/1.1 only, no proxy, but it can skip certificate
 *   verification (`insecure_skip_verify`), verify against another name
 *   (`server_name_override`) and bound the TLS version (`min_version: "1.3"`,
 *   `max_version: "1.2"`), which Deno's fetch client cannot.
 *
 * @module
 */

import { totalLength } from "../../core/bytes.ts";
import type { TlsConfig } from "./config.ts";

/** An answer whose body has not been read yet. */
export interface HttpAnswer {
  readonly status: number;
  /** A response header, or null. */
  header(name: string): string | null;
  /** Reads at most `limit` bytes of the body and drops the rest. */
  readBody(limit: number): Promise<Uint8Array>;
}

/**
 * A request body: bytes, or a large uncompressed body as a `Blob`. `fetch` sends a Blob with
 * its length and reads it part by part while sending; a byte array it first copies whole,
 * twice, on the event loop (about 10 ms each for the 3 MB of an uncompressed 8,192-record
 * batch, in a profile of the agent benchmark).
 */
export type RequestBody = Uint8Array | Blob;

/** Sends POST requests to one endpoint. */
export interface Transport {
  /**
   * Sends one request; rejects on a network or TLS failure and when `signal` aborts. A `Blob`
   * body is an uncompressed one, sent with its length as it is read (see `RequestBody`).
   */
  post(
    url: string,
    body: RequestBody,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<HttpAnswer>;
  /** Closes pooled connections. */
  close(): void;
}

/** True when `tls` asks for something only the node:https transport can do. */
export function needsNodeTls(tls: TlsConfig): boolean {
  return tls.insecureSkipVerify || tls.serverNameOverride !== "" || tls.minVersion === "1.3" ||
    tls.maxVersion === "1.2";
}

/** Names of the settings that select the node:https transport, as written in the config. */
export function nodeTlsKeys(tls: TlsConfig): string[] {
  const keys: string[] = [];
  if (tls.insecureSkipVerify) keys.push("tls::insecure_skip_verify");
  if (tls.serverNameOverride !== "") keys.push("tls::server_name_override");
  if (tls.minVersion === "1.3") keys.push("tls::min_version");
  if (tls.maxVersion === "1.2") keys.push("tls::max_version");
  return keys;
}

/**
 * The proxy the environment (`HTTPS_PROXY`/`HTTP_PROXY`, either case) sets for `url`, unless
 * `NO_PROXY` exempts its host: `*`, the host itself, or a domain it is in (`example.com` and
 * `.example.com` both cover `a.example.com`), with an optional `:port`.
 */
export function envProxyFor(url: URL, env: (name: string) => string | undefined): string {
  const scheme = url.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY";
  const proxy = env(scheme) || env(scheme.toLowerCase()) || "";
  if (proxy === "") return "";
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const noProxy = env("NO_PROXY") || env("no_proxy") || "";
  for (let entry of noProxy.split(",").map((e) => e.trim().toLowerCase())) {
    if (entry === "") continue;
    if (entry === "*") return "";
    // host, host:port, [v6] or [v6]:port (a bare v6 address has colons but no port).
    const m = /^\[(.+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
    if (m) {
      if (m[2] !== undefined && m[2] !== port) continue;
      entry = m[1]!;
    }
    const domain = entry.replace(/^\*?\./, "");
    if (host === domain || host.endsWith(`.${domain}`)) return "";
  }
  return proxy;
}

/** Returns `pem`, or the text of `file`; an unreadable file is an error naming `tls::<key>`. */
export async function readPem(
  key: string,
  file: string,
  pem: string,
): Promise<string | undefined> {
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

/** Joins `chunks` into one array of at most `limit` bytes. */
export function concatLimited(chunks: readonly Uint8Array[], limit: number): Uint8Array {
  const out = new Uint8Array(Math.min(totalLength(chunks), limit));
  let off = 0;
  for (const c of chunks) {
    const part = c.subarray(0, out.length - off);
    out.set(part, off);
    off += part.length;
    if (off >= out.length) break;
  }
  return out;
}
