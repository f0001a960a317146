/**
 * Config of the `otlp_http` exporter (alias `otlphttp`), as upstream's
 * `otlphttpexporter.Config`: confighttp client settings, `encoding`, the logs URL,
 * `retry_on_failure` and `sending_queue`. Settings Deno cannot honour are errors that say so.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import {
  defaultQueueConfig,
  defaultRetryConfig,
  parseQueueConfig,
  parseRetryConfig,
  type QueueConfig,
  type RetryConfig,
} from "../../core/exporterhelper/config.ts";
import { needsNodeTls, nodeTlsKeys } from "./transport.ts";

/** Client TLS settings (configtls.ClientConfig) that Deno can apply. */
export interface TlsConfig {
  caFile: string;
  caPem: string;
  certFile: string;
  certPem: string;
  keyFile: string;
  keyPem: string;
  /** Accepted as upstream; the URL scheme decides whether TLS is used. */
  insecure: boolean;
  /** Skip verifying the server's certificate (node:https transport). */
  insecureSkipVerify: boolean;
  /** Name to send (SNI) and verify the certificate against instead of the URL's host. */
  serverNameOverride: string;
  /** "1.3" to refuse TLS 1.2; "" otherwise (Deno never negotiates below 1.2). */
  minVersion: "" | "1.3";
  /** "1.2" to refuse TLS 1.3; "" otherwise. */
  maxVersion: "" | "1.2";
}

/** The exporter's typed config. */
export interface OtlpHttpConfig {
  /** `endpoint` as written ("" when only `logs_endpoint` is set). */
  endpoint: string;
  /** The URL requests go to: `logs_endpoint`, or `endpoint` + `/v1/logs`. */
  logsUrl: string;
  encoding: "proto" | "json";
  /** `zlib` and `deflate` both send zlib-format (RFC 1950) data, as upstream. */
  compression: "gzip" | "zstd" | "zlib" | "deflate" | "none";
  /** `compression_params::level`; undefined = upstream's default (gzip 6, zstd 1). */
  compressionLevel: number | undefined;
  headers: Record<string, string>;
  /** Per attempt. @default 30000 */
  timeoutMs: number;
  proxyUrl: string;
  tls: TlsConfig;
  /** `auth::authenticator`: id of a client auth extension. */
  authenticator: string | undefined;
  /** Connection pool: `max_idle_conns_per_host` / `max_idle_conns` / `disable_keep_alives`. */
  maxIdlePerHost: number | undefined;
  /** `idle_conn_timeout` in ms. */
  idleConnTimeoutMs: number | undefined;
  /** `force_attempt_http2`. @default true */
  http2: boolean;
  retry: RetryConfig;
  queue: QueueConfig;
}

/** The defaults, as upstream's `createDefaultConfig`. */
export function defaultOtlpHttpConfig(): OtlpHttpConfig {
  return {
    endpoint: "",
    logsUrl: "",
    encoding: "proto",
    compression: "gzip",
    compressionLevel: undefined,
    headers: {},
    timeoutMs: 30_000,
    proxyUrl: "",
    tls: {
      caFile: "",
      caPem: "",
      certFile: "",
      certPem: "",
      keyFile: "",
      keyPem: "",
      insecure: false,
      insecureSkipVerify: false,
      serverNameOverride: "",
      minVersion: "",
      maxVersion: "",
    },
    authenticator: undefined,
    maxIdlePerHost: undefined,
    idleConnTimeoutMs: 90_000,
    http2: true,
    retry: defaultRetryConfig(),
    queue: defaultQueueConfig(),
  };
}

const UNSUPPORTED_COMPRESSION = ["snappy", "lz4", "x-snappy-framed"];
const DEFLATE_FAMILY = ["gzip", "zlib", "deflate"];

/** Builds the logs URL from `endpoint` (appending `/v1/logs`) or validates `logs_endpoint`. */
function checkUrl(r: ConfigReader, key: string, text: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    r.error(
      key,
      `Invalid URL ${
        JSON.stringify(text)
      }: write it with its scheme, e.g. "https://otlp.example.com:4318"`,
    );
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    r.error(
      key,
      `Invalid URL ${JSON.stringify(text)}: the scheme must be "http" or "https", e.g. "https://${
        url.host || "otlp.example.com:4318"
      }"`,
    );
    return undefined;
  }
  return url;
}

/** Reads the exporter's section onto the defaults. */
export function parseOtlpHttpConfig(r: ConfigReader): OtlpHttpConfig {
  const def = defaultOtlpHttpConfig();
  const cfg = def;
  cfg.endpoint = r.string("endpoint", "");
  const logsEndpoint = r.string("logs_endpoint", "");
  if (logsEndpoint !== "") {
    const u = checkUrl(r, "logs_endpoint", logsEndpoint);
    if (u) cfg.logsUrl = u.href;
  } else if (cfg.endpoint !== "") {
    const u = checkUrl(r, "endpoint", cfg.endpoint);
    if (u) {
      u.pathname = u.pathname.replace(/\/+$/, "") + "/v1/logs";
      cfg.logsUrl = u.href;
    }
  } else {
    r.error(undefined, 'Set "endpoint" (e.g. "https://otlp.example.com:4318") or "logs_endpoint"');
  }
  for (const key of ["traces_endpoint", "metrics_endpoint", "profiles_endpoint"]) {
    if (r.has(key)) r.warn(key, "Ignored: this collector exports logs only");
  }
  cfg.encoding = r.enum("encoding", ["proto", "json"] as const, "proto");

  if (r.has("compression")) {
    const c = r.string("compression", "gzip");
    if (UNSUPPORTED_COMPRESSION.includes(c)) {
      r.error(
        "compression",
        `Compression "${c}" is not supported yet: use "gzip", "zstd", "zlib", "deflate" or "none"`,
      );
    } else if (c === "" || c === "none") {
      cfg.compression = "none";
    } else if (c === "gzip" || c === "zstd" || c === "zlib" || c === "deflate") {
      cfg.compression = c;
    } else {
      r.error(
        "compression",
        `Invalid value ${
          JSON.stringify(c)
        }: must be one of "gzip", "zstd", "zlib", "deflate", "none"`,
      );
    }
  }
  const params = r.section("compression_params");
  if (params.has("level")) {
    const level = params.int("level", 0);
    const ok = DEFLATE_FAMILY.includes(cfg.compression)
      ? level === -1 || (level >= 1 && level <= 9)
      : cfg.compression === "zstd"
      ? [1, 3, 6, 11].includes(level)
      : false;
    if (!ok) {
      params.error(
        "level",
        cfg.compression === "none"
          ? "Has no effect without compression: remove it or set compression"
          : `Invalid level ${level} for ${cfg.compression}: use ${
            cfg.compression === "zstd" ? "1, 3, 6 or 11" : "1 to 9, or -1 (default)"
          }`,
      );
    } else cfg.compressionLevel = level === -1 ? undefined : level;
  }

  cfg.headers = r.stringMap("headers");
  cfg.timeoutMs = r.duration("timeout", def.timeoutMs);
  cfg.proxyUrl = r.string("proxy_url", "");
  if (cfg.proxyUrl !== "") {
    try {
      const p = new URL(cfg.proxyUrl);
      if (!["http:", "https:", "socks5:", "socks5h:"].includes(p.protocol)) throw new Error();
    } catch {
      r.error(
        "proxy_url",
        `Invalid proxy URL ${JSON.stringify(cfg.proxyUrl)}: e.g. "http://proxy.internal:3128"`,
      );
    }
  }
  cfg.authenticator = r.section("auth").optionalString("authenticator");
  cfg.tls = parseTls(r.section("tls"), cfg.logsUrl);
  if (cfg.proxyUrl !== "" && cfg.logsUrl.startsWith("https:") && needsNodeTls(cfg.tls)) {
    r.error(
      "proxy_url",
      `Cannot be combined with ${nodeTlsKeys(cfg.tls).join(", ")} here: those need a direct ` +
        "connection. Remove one of them",
    );
  }

  for (const key of ["read_buffer_size", "write_buffer_size"]) {
    if (r.has(key)) {
      r.byteSize(key, 0);
      r.warn(key, "Has no effect here: Deno's HTTP client sizes its buffers itself");
    }
  }
  if (r.has("disable_keep_alives") && r.bool("disable_keep_alives", false)) cfg.maxIdlePerHost = 0;
  if (r.has("max_idle_conns_per_host")) {
    cfg.maxIdlePerHost ??= r.int("max_idle_conns_per_host", 0, { min: 0 });
  }
  if (r.has("max_idle_conns")) {
    // One exporter talks to one host, so the total and the per-host limit coincide.
    const total = r.int("max_idle_conns", 100, { min: 0 });
    if (total > 0) cfg.maxIdlePerHost = Math.min(cfg.maxIdlePerHost ?? total, total);
  }
  cfg.idleConnTimeoutMs = r.duration("idle_conn_timeout", def.idleConnTimeoutMs!);
  cfg.http2 = r.bool("force_attempt_http2", true);
  for (const key of ["max_conns_per_host", "http2_read_idle_timeout", "http2_ping_timeout"]) {
    const node = r.raw(key);
    const zero = node?.type === "scalar" && ["0", "0s"].includes(node.raw);
    if (node !== undefined && !zero) {
      r.error(
        key,
        `"${key}" is not supported yet: Deno's HTTP client has no such setting; remove it`,
      );
    }
  }
  if (r.has("cookies") && r.section("cookies").bool("enabled", false)) {
    r.error("cookies", '"cookies" is not supported yet: remove it or set enabled: false');
  }
  if (r.has("middlewares") && r.raw("middlewares") !== undefined) {
    r.error("middlewares", '"middlewares" is not supported yet: remove it');
  }
  if (r.has("response_header_timeout")) {
    r.duration("response_header_timeout", 0);
    r.error(
      "response_header_timeout",
      '"response_header_timeout" is not supported yet: use "timeout"',
    );
  }

  cfg.retry = parseRetryConfig(r.section("retry_on_failure"));
  cfg.queue = parseQueueConfig(r.section("sending_queue"));
  return cfg;
}

const TLS_VERSIONS = ["1.0", "1.1", "1.2", "1.3"];

function parseTls(r: ConfigReader, url: string): TlsConfig {
  const tls: TlsConfig = {
    caFile: r.string("ca_file", ""),
    caPem: r.string("ca_pem", ""),
    certFile: r.string("cert_file", ""),
    certPem: r.string("cert_pem", ""),
    keyFile: r.string("key_file", ""),
    keyPem: r.string("key_pem", ""),
    insecure: r.bool("insecure", false),
    insecureSkipVerify: false,
    serverNameOverride: "",
    minVersion: "",
    maxVersion: "",
  };
  if (tls.caFile !== "" && tls.caPem !== "") {
    r.error("ca_pem", 'Set "ca_file" or "ca_pem", not both');
  }
  if (tls.certFile !== "" && tls.certPem !== "") {
    r.error("cert_pem", 'Set "cert_file" or "cert_pem", not both');
  }
  if (tls.keyFile !== "" && tls.keyPem !== "") {
    r.error("key_pem", 'Set "key_file" or "key_pem", not both');
  }
  const hasCert = tls.certFile !== "" || tls.certPem !== "";
  const hasKey = tls.keyFile !== "" || tls.keyPem !== "";
  if (hasCert !== hasKey) {
    r.error(
      hasCert ? "key_file" : "cert_file",
      "A client certificate needs both cert_file and key_file (or the _pem forms)",
    );
  }
  tls.insecureSkipVerify = r.bool("insecure_skip_verify", false);
  const min = r.string("min_version", "");
  if (min !== "" && !TLS_VERSIONS.includes(min)) {
    r.error("min_version", `Invalid TLS version ${JSON.stringify(min)}: use "1.2" or "1.3"`);
  } else if (min === "1.3") tls.minVersion = "1.3";
  // 1.0–1.2 are honoured as they are: Deno never negotiates below TLS 1.2.
  const max = r.string("max_version", "");
  if (max !== "" && !TLS_VERSIONS.includes(max)) {
    r.error("max_version", `Invalid TLS version ${JSON.stringify(max)}: use "1.2" or "1.3"`);
  } else if (max === "1.0" || max === "1.1") {
    r.error(
      "max_version",
      `Not supported: Deno speaks TLS 1.2 and 1.3 only, so it cannot be capped at ${max}`,
    );
  } else if (max === "1.2") tls.maxVersion = "1.2";
  if (tls.minVersion === "1.3" && tls.maxVersion === "1.2") {
    r.error("max_version", 'Lower than min_version "1.3": no TLS version is left');
  }
  tls.serverNameOverride = r.string("server_name_override", "");
  if (r.stringList("cipher_suites").length > 0) {
    r.error(
      "cipher_suites",
      "Not supported: Deno's TLS client does not let one choose cipher suites; remove it",
    );
  }
  if (r.stringList("curve_preferences").length > 0) {
    r.error(
      "curve_preferences",
      "Not supported: Deno's TLS client does not let one choose curves; remove it",
    );
  }
  if (r.has("reload_interval")) {
    if (r.duration("reload_interval", 0) > 0) {
      r.error(
        "reload_interval",
        "Not supported yet: certificates are read once at start; restart to reload them",
      );
    }
  }
  const includeSystem = r.bool("include_system_ca_certs_pool", false);
  if ((tls.caFile !== "" || tls.caPem !== "") && !includeSystem) {
    r.warn(
      tls.caFile !== "" ? "ca_file" : "ca_pem",
      "Deno also trusts its built-in root certificates next to this CA (upstream trusts only this CA)",
    );
  }
  const anyTls = tls.caFile || tls.caPem || hasCert || needsNodeTls(tls);
  if (anyTls && url.startsWith("http://")) {
    r.warn(
      undefined,
      "TLS settings have no effect on an http:// endpoint: use https:// to enable TLS",
    );
  }
  return tls;
}
