/**
 * Config of the `otlp` receiver, as upstream's `otlpreceiver.Config`: `protocols::http`
 * (confighttp server keys with the receiver's defaults, plus `logs_url_path`) and
 * `protocols::grpc`. A protocol is on when its key is written, even empty.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import {
  defaultServerConfig,
  parseServerConfig,
  type ServerConfig,
} from "../../core/confighttp/mod.ts";
import { type GrpcServerConfig, parseGrpcServerConfig } from "./grpc_config.ts";

/** `protocols::http`. */
export interface OtlpHttpProtocolConfig {
  server: ServerConfig;
  /** Path the logs are POSTed to. @default "/v1/logs" */
  logsUrlPath: string;
}

/** The typed receiver config. */
export interface OtlpReceiverConfig {
  http: OtlpHttpProtocolConfig | undefined;
  grpc: GrpcServerConfig | undefined;
  /**
   * `admission::request_limit_mib` in bytes (beyond upstream's otlp receiver; the key and
   * default of contrib's otelarrow receiver): request bodies being read and decompressed at
   * once over `protocols::http` take at most this much. 0 = no bound. @default 128 MiB
   */
  requestLimitBytes: number;
}

const MIB = 1024 * 1024;

/** `admission::request_limit_mib` when unset, as contrib's otelarrow receiver. */
export const DEFAULT_REQUEST_LIMIT_MIB = 128;

/** The receiver's `protocols::http` defaults: upstream's server defaults, timeouts off. */
export function defaultHttpProtocolConfig(): OtlpHttpProtocolConfig {
  const server = defaultServerConfig("localhost:4318");
  // Upstream's receiver turns these off "for backward compatibility".
  server.writeTimeoutMs = 0;
  server.readHeaderTimeoutMs = 0;
  server.idleTimeoutMs = 0;
  return { server, logsUrlPath: "/v1/logs" };
}

/** Upstream's default: both protocols listed, so both are on with defaults when written. */
export function defaultOtlpReceiverConfig(): OtlpReceiverConfig {
  return {
    http: defaultHttpProtocolConfig(),
    grpc: undefined,
    requestLimitBytes: DEFAULT_REQUEST_LIMIT_MIB * MIB,
  };
}

function urlPath(r: ConfigReader, key: string, def: string): string {
  const p = r.string(key, def);
  return p.startsWith("/") ? p : `/${p}`;
}

/** Reads the receiver's section. */
export function parseOtlpReceiverConfig(r: ConfigReader): OtlpReceiverConfig {
  const protocols = r.section("protocols");
  const cfg: OtlpReceiverConfig = { http: undefined, grpc: undefined, requestLimitBytes: 0 };
  if (protocols.has("http")) {
    const h = protocols.section("http");
    const def = defaultHttpProtocolConfig();
    cfg.http = {
      server: parseServerConfig(h, def.server),
      logsUrlPath: urlPath(h, "logs_url_path", def.logsUrlPath),
    };
    for (const key of ["traces_url_path", "metrics_url_path"]) {
      if (h.has(key)) {
        urlPath(h, key, "");
        h.warn(key, "Ignored: this collector receives logs only");
      }
    }
  }
  if (protocols.has("grpc")) cfg.grpc = parseGrpcServerConfig(protocols.section("grpc"));
  const admission = r.section("admission");
  cfg.requestLimitBytes = admission.int("request_limit_mib", DEFAULT_REQUEST_LIMIT_MIB, {
    min: 0,
  }) * MIB;
  // A body takes its bytes on the wire and decompressed: one at the size limit must fit.
  const body = cfg.http?.server.maxRequestBodySize ?? 0;
  if (cfg.requestLimitBytes > 0 && cfg.requestLimitBytes < 2 * body) {
    admission.error(
      "request_limit_mib",
      `Must hold one request at protocols::http::max_request_body_size twice (on the wire and decompressed): at least ${
        Math.ceil((2 * body) / MIB)
      }, or 0 for no bound`,
    );
  }
  if (!protocols.has("http") && !protocols.has("grpc")) {
    r.error(
      "protocols",
      'Enable at least one protocol: e.g. "protocols: {http: {endpoint: 0.0.0.0:4318}}"',
    );
  }
  return cfg;
}
