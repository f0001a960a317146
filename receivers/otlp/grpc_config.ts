/**
 * Config of the otlp receiver's `protocols::grpc`, as upstream's `configgrpc.ServerConfig`
 * with the receiver's defaults (`localhost:4317`, `read_buffer_size` 512 KiB). `tls` is the
 * same section as the HTTP server's. Settings grpc-js has no equivalent for are accepted with
 * a warning that says so, never silently.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import {
  parseAuthenticator,
  parseServerEndpoint,
  parseServerTls,
  type ServerTlsConfig,
} from "../../core/confighttp/config.ts";

/** `keepalive::server_parameters`, durations in ms; 0 = grpc's default. */
export interface KeepaliveServerParameters {
  /** Close a connection idle (no calls) this long. @default 0 (never) */
  maxConnectionIdleMs: number;
  /** Close a connection this old (after `maxConnectionAgeGraceMs`). @default 0 (never) */
  maxConnectionAgeMs: number;
  maxConnectionAgeGraceMs: number;
  /** Ping an idle client after this long. @default 0 (grpc's 2 h) */
  timeMs: number;
  /** Close the connection when a ping is not answered within this. @default 0 (grpc's 20 s) */
  timeoutMs: number;
}

/** The typed `protocols::grpc` config. */
export interface GrpcServerConfig {
  /** `host:port`; port 0 picks a free one. */
  endpoint: string;
  tls: ServerTlsConfig | undefined;
  /** Largest accepted message in MiB (after decompression); 0 = grpc's 4 MiB. */
  maxRecvMsgSizeMib: number;
  /** Concurrent calls per connection; 0 = unlimited. */
  maxConcurrentStreams: number;
  /** Accepted as upstream; grpc-js sizes its own buffers (see the README). */
  readBufferSize: number;
  writeBufferSize: number;
  keepalive: KeepaliveServerParameters;
  /** `auth::authenticator`: id of a server authenticator extension. */
  authenticator: string | undefined;
  /** Copy the request metadata into `ClientInfo.metadata`. */
  includeMetadata: boolean;
}

/** grpc's default for the largest message a server accepts: 4 MiB. */
export const DEFAULT_MAX_RECV_MSG_SIZE = 4 * 1024 * 1024;

/** Upstream's default `protocols::grpc` of the otlp receiver. */
export function defaultGrpcServerConfig(): GrpcServerConfig {
  return {
    endpoint: "localhost:4317",
    tls: undefined,
    maxRecvMsgSizeMib: 0,
    maxConcurrentStreams: 0,
    readBufferSize: 512 * 1024,
    writeBufferSize: 0,
    keepalive: {
      maxConnectionIdleMs: 0,
      maxConnectionAgeMs: 0,
      maxConnectionAgeGraceMs: 0,
      timeMs: 0,
      timeoutMs: 0,
    },
    authenticator: undefined,
    includeMetadata: false,
  };
}

/** The largest message the server accepts, in bytes. */
export function maxRecvMsgSize(cfg: GrpcServerConfig): number {
  return cfg.maxRecvMsgSizeMib > 0
    ? cfg.maxRecvMsgSizeMib * 1024 * 1024
    : DEFAULT_MAX_RECV_MSG_SIZE;
}

/** Reads `protocols::grpc` onto upstream's defaults; problems go to the reader. */
export function parseGrpcServerConfig(r: ConfigReader): GrpcServerConfig {
  const cfg = defaultGrpcServerConfig();
  cfg.endpoint = parseServerEndpoint(r, cfg.endpoint, "0.0.0.0:4317");
  if (r.raw("tls") !== undefined) cfg.tls = parseServerTls(r.section("tls"));
  // Upstream rejects negative sizes and treats 0 as grpc's default; 4 GiB and more cannot be a
  // message length (grpc frames carry a 32-bit length).
  cfg.maxRecvMsgSizeMib = r.int("max_recv_msg_size_mib", 0, { min: 0, max: 4095 });
  cfg.maxConcurrentStreams = r.int("max_concurrent_streams", 0, { min: 0, max: 2 ** 32 - 1 });
  for (const key of ["read_buffer_size", "write_buffer_size"] as const) {
    const size = r.byteSize(key, key === "read_buffer_size" ? cfg.readBufferSize : 0);
    if (key === "read_buffer_size") cfg.readBufferSize = size;
    else cfg.writeBufferSize = size;
    if (r.raw(key) !== undefined) {
      r.warn(key, "Has no effect here: grpc-js (Node's HTTP/2) sizes its own socket buffers");
    }
  }
  if (r.raw("keepalive") !== undefined) cfg.keepalive = parseKeepalive(r.section("keepalive"));
  if (r.raw("auth") !== undefined) cfg.authenticator = parseAuthenticator(r.section("auth"));
  cfg.includeMetadata = r.bool("include_metadata", false);
  if (r.raw("middlewares") !== undefined) {
    r.error("middlewares", '"middlewares" is not supported yet: remove it');
  }
  return cfg;
}

function parseKeepalive(r: ConfigReader): KeepaliveServerParameters {
  const p = r.section("server_parameters");
  const params: KeepaliveServerParameters = {
    maxConnectionIdleMs: p.duration("max_connection_idle", 0),
    maxConnectionAgeMs: p.duration("max_connection_age", 0),
    maxConnectionAgeGraceMs: p.duration("max_connection_age_grace", 0),
    timeMs: p.duration("time", 0),
    timeoutMs: p.duration("timeout", 0),
  };
  if (r.raw("enforcement_policy") !== undefined) {
    const e = r.section("enforcement_policy");
    e.duration("min_time", 0);
    e.bool("permit_without_stream", false);
    r.warn(
      "enforcement_policy",
      "Not enforced: grpc-js never closes connections over client pings, so every client " +
        "keepalive is allowed (as if min_time were 0 and permit_without_stream true)",
    );
  }
  return params;
}
