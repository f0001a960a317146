/**
 * Config of an HTTP server, as upstream's `confighttp.ServerConfig` (with `configtls`'s
 * server side under `tls`). Keys and defaults are upstream's; settings `Deno.serve` cannot
 * honour are errors or warnings that say so.
 *
 * @module
 */

import type { ConfigReader } from "../config/reader.ts";

/** `tls` of a server (upstream's `configtls.ServerConfig`). */
export interface ServerTlsConfig {
  certFile: string;
  certPem: string;
  keyFile: string;
  keyPem: string;
  /** CA that client certificates must chain to (mTLS); "" = no client certificates asked. */
  clientCaFile: string;
  /** `client_ca_file_reload`: re-read the client CA when the file changes. */
  clientCaFileReload: boolean;
  /** `min_version`: "1.2" (upstream's default) or "1.3". */
  minVersion: "1.2" | "1.3";
  /** `max_version`: "" (no cap) or "1.2". */
  maxVersion: "" | "1.2";
  /** `reload_interval` in ms: re-read the certificate and key this often; 0 = never. */
  reloadIntervalMs: number;
}

/** `cors` (upstream's `confighttp.CORSConfig`). */
export interface CorsConfig {
  /** Origins allowed to send requests; `*` wildcards inside a pattern are allowed. */
  allowedOrigins: string[];
  /** Request headers allowed besides the CORS-safelisted ones. */
  allowedHeaders: string[];
  exposedHeaders: string[];
  /** Seconds a preflight answer may be cached; 0 = not said. */
  maxAge: number;
}

/** The typed server config. */
export interface ServerConfig {
  /** `host:port`; port 0 picks a free one. */
  endpoint: string;
  tls: ServerTlsConfig | undefined;
  cors: CorsConfig | undefined;
  /** `auth::authenticator`: id of a server authenticator extension. */
  authenticator: string | undefined;
  /** `auth::request_params`: query parameters passed to the authenticator as headers. */
  authRequestParams: string[];
  /** Limit on the body before and after decompression. @default 20 MiB */
  maxRequestBodySize: number;
  /** Copy request headers into `ClientInfo.metadata`. */
  includeMetadata: boolean;
  /** Headers set on every response. */
  responseHeaders: Record<string, string>;
  /** Accepted `Content-Encoding`s ("" = uncompressed). */
  compressionAlgorithms: string[];
  /** `read_timeout` in ms (0 = none): the body must arrive within it. */
  readTimeoutMs: number;
  /** `read_header_timeout` in ms: upstream's default; see the README for what Deno honours. */
  readHeaderTimeoutMs: number;
  /** `write_timeout` in ms. */
  writeTimeoutMs: number;
  /** `idle_timeout` in ms. */
  idleTimeoutMs: number;
  keepAlivesEnabled: boolean;
}

/** Upstream's `confighttp` default for `max_request_body_size`: 20 MiB. */
export const DEFAULT_MAX_REQUEST_BODY_SIZE = 20 * 1024 * 1024;

/** Content encodings the server can decode (upstream's list minus snappy and lz4). */
export const SUPPORTED_ENCODINGS: readonly string[] = ["", "gzip", "zstd", "zlib", "deflate"];

const UPSTREAM_ONLY_ENCODINGS = ["snappy", "lz4", "x-snappy-framed"];

/** Splits `host:port` (or `[v6]:port`); throws a `SyntaxError` naming the address. */
export function parseHostPort(address: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new SyntaxError(
      `Invalid address "${address}": expected host:port, e.g. "localhost:8888"`,
    );
  }
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** Upstream's `NewDefaultServerConfig` with `endpoint` set. */
export function defaultServerConfig(endpoint: string): ServerConfig {
  return {
    endpoint,
    tls: undefined,
    cors: undefined,
    authenticator: undefined,
    authRequestParams: [],
    maxRequestBodySize: DEFAULT_MAX_REQUEST_BODY_SIZE,
    includeMetadata: false,
    responseHeaders: {},
    compressionAlgorithms: [...SUPPORTED_ENCODINGS],
    readTimeoutMs: 0,
    readHeaderTimeoutMs: 60_000,
    writeTimeoutMs: 30_000,
    idleTimeoutMs: 60_000,
    keepAlivesEnabled: true,
  };
}

const ENDPOINT_RE = /^(?:\[[^\]]+\]|[^:\[\]]*):(\d{1,5})$/;

/**
 * Reads `endpoint` (host:port, `example` in the error) and `transport` (only "tcp") of a
 * server; shared by the HTTP and gRPC servers.
 */
export function parseServerEndpoint(r: ConfigReader, def: string, example: string): string {
  const endpoint = r.string("endpoint", def);
  const port = ENDPOINT_RE.exec(endpoint)?.[1];
  if (port === undefined || Number(port) > 65535) {
    r.error(
      "endpoint",
      `Invalid endpoint ${JSON.stringify(endpoint)}: write host:port, e.g. "${example}"`,
    );
  }
  const transport = r.string("transport", "tcp");
  if (transport !== "tcp") {
    r.error("transport", `Only "tcp" is supported: current value is ${JSON.stringify(transport)}`);
  }
  return endpoint;
}

/** `auth::authenticator` of a server's `auth` section; empty or missing is an error. */
export function parseAuthenticator(auth: ConfigReader): string | undefined {
  const id = auth.optionalString("authenticator");
  if (id === undefined || id === "") {
    auth.error(undefined, 'Set "authenticator" to the id of an auth extension, or remove "auth"');
    return undefined;
  }
  return id;
}

/** Reads the server keys of `r` onto `def` (the component's defaults). */
export function parseServerConfig(r: ConfigReader, def: ServerConfig): ServerConfig {
  const cfg: ServerConfig = { ...def };
  cfg.endpoint = parseServerEndpoint(r, def.endpoint, "0.0.0.0:4318");
  if (r.raw("tls") !== undefined) cfg.tls = parseServerTls(r.section("tls"));
  if (r.raw("cors") !== undefined) cfg.cors = parseCors(r.section("cors"));
  if (r.raw("auth") !== undefined) {
    const auth = r.section("auth");
    cfg.authenticator = parseAuthenticator(auth);
    cfg.authRequestParams = auth.stringList("request_params");
  }
  // Upstream treats 0 (and negative) as "use the default".
  const size = r.byteSize("max_request_body_size", def.maxRequestBodySize);
  cfg.maxRequestBodySize = size > 0 ? size : DEFAULT_MAX_REQUEST_BODY_SIZE;
  cfg.includeMetadata = r.bool("include_metadata", def.includeMetadata);
  cfg.responseHeaders = r.stringMap("response_headers");
  if (r.has("compression_algorithms")) {
    cfg.compressionAlgorithms = [];
    for (const alg of r.stringList("compression_algorithms")) {
      if (UPSTREAM_ONLY_ENCODINGS.includes(alg)) {
        r.error(
          "compression_algorithms",
          `"${alg}" is not supported yet: use "", "gzip", "zstd", "zlib" or "deflate"`,
        );
      } else if (!SUPPORTED_ENCODINGS.includes(alg)) {
        r.error(
          "compression_algorithms",
          `Unknown algorithm ${
            JSON.stringify(alg)
          }: use "" (uncompressed), "gzip", "zstd", "zlib" or "deflate"`,
        );
      } else cfg.compressionAlgorithms.push(alg);
    }
  }
  cfg.readTimeoutMs = r.duration("read_timeout", def.readTimeoutMs);
  cfg.readHeaderTimeoutMs = r.duration("read_header_timeout", def.readHeaderTimeoutMs);
  cfg.writeTimeoutMs = r.duration("write_timeout", def.writeTimeoutMs);
  cfg.idleTimeoutMs = r.duration("idle_timeout", def.idleTimeoutMs);
  for (const key of ["read_header_timeout", "write_timeout", "idle_timeout"]) {
    if (r.raw(key) !== undefined) {
      r.warn(
        key,
        "Not enforced: Deno's HTTP server has no such setting (see the README, " +
          '"HTTP server settings"); read_timeout bounds slow request bodies',
      );
    }
  }
  cfg.keepAlivesEnabled = r.bool("keep_alives_enabled", def.keepAlivesEnabled);
  if (r.raw("middlewares") !== undefined) {
    r.error("middlewares", '"middlewares" is not supported yet: remove it');
  }
  return cfg;
}

/** Reads a server's `tls` section (shared with the gRPC server config). */
export function parseServerTls(r: ConfigReader): ServerTlsConfig {
  const tls: ServerTlsConfig = {
    certFile: r.string("cert_file", ""),
    certPem: r.string("cert_pem", ""),
    keyFile: r.string("key_file", ""),
    keyPem: r.string("key_pem", ""),
    clientCaFile: r.string("client_ca_file", ""),
    clientCaFileReload: r.bool("client_ca_file_reload", false),
    minVersion: "1.2",
    maxVersion: "",
    reloadIntervalMs: r.duration("reload_interval", 0),
  };
  if (tls.certFile !== "" && tls.certPem !== "") {
    r.error("cert_pem", 'Set "cert_file" or "cert_pem", not both');
  }
  if (tls.keyFile !== "" && tls.keyPem !== "") {
    r.error("key_pem", 'Set "key_file" or "key_pem", not both');
  }
  if (tls.certFile === "" && tls.certPem === "") {
    r.error(undefined, 'A server needs a certificate: set "cert_file" and "key_file"');
  } else if (tls.keyFile === "" && tls.keyPem === "") {
    r.error(undefined, 'A certificate needs its key: set "key_file"');
  }
  if (tls.reloadIntervalMs > 0 && tls.certFile === "" && tls.keyFile === "") {
    r.warn("reload_interval", "Has no effect without cert_file/key_file (PEM text cannot change)");
  }
  for (const key of ["ca_file", "ca_pem"]) {
    if (r.has(key)) {
      r.string(key, "");
      r.warn(key, 'Has no effect on a server: to verify client certificates set "client_ca_file"');
    }
  }
  const min = r.string("min_version", "1.2");
  if (min === "1.3") tls.minVersion = "1.3";
  else if (min === "1.0" || min === "1.1") {
    r.warn("min_version", "Deno speaks TLS 1.2 and 1.3 only: clients below 1.2 are refused");
  } else if (min !== "1.2" && min !== "") {
    r.error("min_version", `Invalid TLS version ${JSON.stringify(min)}: use "1.2" or "1.3"`);
  }
  const max = r.string("max_version", "");
  if (max === "1.2") tls.maxVersion = "1.2";
  else if (max === "1.0" || max === "1.1") {
    r.error("max_version", `Not supported: Deno speaks TLS 1.2 and 1.3 only, not ${max}`);
  } else if (max !== "" && max !== "1.3") {
    r.error("max_version", `Invalid TLS version ${JSON.stringify(max)}: use "1.2" or "1.3"`);
  }
  if (tls.minVersion === "1.3" && tls.maxVersion === "1.2") {
    r.error("max_version", 'Lower than min_version "1.3": no TLS version is left');
  }
  for (const key of ["cipher_suites", "curve_preferences"]) {
    if (r.stringList(key).length > 0) {
      r.error(key, `Not supported: Deno's TLS server does not let one choose these; remove it`);
    }
  }
  r.bool("include_system_ca_certs_pool", false);
  return tls;
}

function parseCors(r: ConfigReader): CorsConfig {
  const cors: CorsConfig = {
    allowedOrigins: r.stringList("allowed_origins"),
    allowedHeaders: r.stringList("allowed_headers"),
    exposedHeaders: r.stringList("exposed_headers"),
    maxAge: r.int("max_age", 0, { min: 0 }),
  };
  if (cors.allowedOrigins.includes("*")) {
    r.warn(
      "allowed_origins",
      'Browsers refuse a plain "*" here (the answer allows credentials, as upstream): ' +
        'write patterns instead, e.g. "https://*", "http://*"',
    );
  }
  return cors;
}
