/**
 * The otlp receiver's gRPC side: `opentelemetry.proto.collector.logs.v1.LogsService/Export`
 * on a grpc-js server. Messages travel as raw bytes (identity serializers); the project's own
 * codec decodes requests and encodes responses, so no .proto is loaded at run time.
 *
 * Per call, as upstream's configgrpc and otlpreceiver: the peer address always goes into
 * `ClientInfo.addr`, the metadata with `include_metadata`; the authenticator (if any) checks
 * the metadata (`Unauthenticated` when it refuses); a message that does not decode is
 * `InvalidArgument`; the pipeline's answer becomes `ok`, `Unavailable`, `ResourceExhausted`
 * or `Internal` ({@linkcode outcomeStatus}). grpc-js itself refuses a message over the size
 * limit with `ResourceExhausted` (also when it only grows that large while decompressing).
 *
 * Connections are accepted by our own listener (`grpc_listener.ts`, which also terminates
 * TLS) and handed to grpc-js with the client's HTTP/2 GOAWAY frames removed: processing them
 * aborts Deno 2.9.6's `node:http2` server on busy connections (see that module).
 *
 * @module
 */

import type { AdmissionCheck } from "../../core/admission.ts";
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import net from "node:net";
import { getServerAuthenticator, type ServerAuthenticator } from "../../core/auth.ts";
import type { CreateSettings, Host } from "../../core/component.ts";
import { type ClientInfo, type LogsConsumer, takesEncoded } from "../../core/consumer.ts";
import { encodeLogsResponse, OtlpDecodeError } from "../../core/pdata/otlp_proto.ts";
import { ObsReport } from "../../core/receiverhelper/mod.ts";
import { exportLogs } from "./export.ts";
import { logsFromProtobuf } from "./protobuf_logs.ts";
import { type GrpcServerConfig, maxRecvMsgSize } from "./grpc_config.ts";
import { type GrpcError, outcomeStatus } from "./grpc_status.ts";
import { listen, type Listener } from "./grpc_listener.ts";
import { createGrpcTlsServer } from "./grpc_tls.ts";

/** The full method name OTLP clients call. */
export const EXPORT_LOGS_PATH = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/** How long (ms) shutdown waits for calls in flight before closing their connections. */
const SHUTDOWN_GRACE_MS = 5000;

const identity = (b: Buffer): Buffer => b;

/** The LogsService definition with raw-bytes (de)serializers. */
export const LOGS_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: EXPORT_LOGS_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: "export",
  },
};

/** What the gRPC side needs from its receiver. */
export interface GrpcServerOptions {
  readonly config: GrpcServerConfig;
  readonly settings: CreateSettings;
  readonly host: Host;
  readonly next: LogsConsumer;
}

/** grpc-js server options for the config (limits and keepalive). */
export function grpcServerOptions(cfg: GrpcServerConfig): grpc.ServerOptions {
  const options: grpc.ServerOptions = {
    "grpc.max_receive_message_length": maxRecvMsgSize(cfg),
    "grpc.enable_channelz": 0,
  };
  if (cfg.maxConcurrentStreams > 0) {
    options["grpc.max_concurrent_streams"] = cfg.maxConcurrentStreams;
  }
  const k = cfg.keepalive;
  const keepalive: [keyof typeof k, string][] = [
    ["maxConnectionIdleMs", "grpc.max_connection_idle_ms"],
    ["maxConnectionAgeMs", "grpc.max_connection_age_ms"],
    ["maxConnectionAgeGraceMs", "grpc.max_connection_age_grace_ms"],
    ["timeMs", "grpc.keepalive_time_ms"],
    ["timeoutMs", "grpc.keepalive_timeout_ms"],
  ];
  // 0 means grpc's default, as upstream passes zero values through to grpc-go.
  for (const [key, option] of keepalive) if (k[key] > 0) options[option] = k[key];
  return options;
}

/** The peer's IP address from grpc-js's `host:port` (IPv4-mapped IPv6 as plain IPv4). */
export function peerAddress(peer: string): string | undefined {
  const colon = peer.lastIndexOf(":");
  if (colon <= 0) return undefined;
  let ip = peer.slice(0, colon);
  if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

/** Metadata as receivers pass headers on: lower-cased keys, binary values in base64. */
export function metadataHeaders(md: grpc.Metadata): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, values] of Object.entries(md.toJSON())) {
    out.set(key, values.map((v) => typeof v === "string" ? v : Buffer.from(v).toString("base64")));
  }
  return out;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function serviceError(err: GrpcError): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (err.statusDetails) metadata.set("grpc-status-details-bin", toBuffer(err.statusDetails));
  return { code: err.code, details: err.details, metadata };
}

/** A running gRPC server of one otlp receiver. */
export class OtlpGrpcServer {
  readonly #server: grpc.Server;
  readonly #listener: Listener;
  readonly #stopTls: () => void;
  readonly #stopping: AbortController;
  /** The port it listens on (the chosen one when the endpoint said 0). */
  readonly port: number;

  private constructor(
    server: grpc.Server,
    listener: Listener,
    stopTls: () => void,
    stopping: AbortController,
  ) {
    this.#server = server;
    this.#listener = listener;
    this.#stopTls = stopTls;
    this.port = listener.port;
    this.#stopping = stopping;
  }

  /**
   * Starts listening on the configured endpoint. Rejects, saying which setting is wrong,
   * when the authenticator is missing, the TLS files cannot be read or the port is taken.
   */
  static async start(opts: GrpcServerOptions): Promise<OtlpGrpcServer> {
    const { config, settings } = opts;
    const path = `receivers::${settings.id}::protocols::grpc`;
    const auth = config.authenticator === undefined
      ? undefined
      : getServerAuthenticator(opts.host, config.authenticator);
    const tlsServer = config.tls === undefined
      ? undefined
      : await createGrpcTlsServer(config.tls, settings.logger, path);
    // grpc-js writes its own errors to stderr; route them into the collector's log instead
    // (process-wide: the last receiver started wins, which only changes the labels).
    const text = (args: unknown[]) => ({ message: args.map(String).join(" ") });
    grpc.setLogger({
      error: (...args: unknown[]) => settings.logger.warn("grpc-js", text(args)),
      info: (...args: unknown[]) => settings.logger.debug("grpc-js", text(args)),
      debug: (...args: unknown[]) => settings.logger.debug("grpc-js", text(args)),
    });
    const server = new grpc.Server(grpcServerOptions(config));
    const stopping = new AbortController();
    const obs = new ObsReport(settings, "grpc");
    server.addService(LOGS_SERVICE, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
        handleExport(call, {
          config,
          auth,
          obs,
          next: opts.next,
          signal: stopping.signal,
          admission: settings.admission,
        })
          .then(
            (result) => Buffer.isBuffer(result) ? done(null, result) : done(serviceError(result)),
            (err) => done({ code: grpc.status.INTERNAL, details: String(err) }),
          );
      },
    });
    // TLS, when configured, is terminated by our own listener: grpc-js sees plaintext HTTP/2.
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    let listener: Listener;
    try {
      listener = await listen(
        tlsServer?.server ?? net.createServer(),
        config.endpoint,
        (connection) => injector.injectConnection(connection),
      );
    } catch (err) {
      tlsServer?.stopWatching();
      server.forceShutdown();
      throw new Error(
        `Cannot listen on ${JSON.stringify(config.endpoint)} (${path}::endpoint): ${
          err instanceof Error ? err.message : err
        }`,
        { cause: err },
      );
    }
    settings.logger.info("Starting GRPC server", {
      endpoint: config.endpoint,
      port: listener.port,
    });
    return new OtlpGrpcServer(server, listener, () => tlsServer?.stopWatching(), stopping);
  }

  /**
   * Stops accepting calls; calls still waiting on the pipeline are told to give up (their
   * clients get `Unavailable` and retry). Connections still open after a grace period are
   * closed.
   */
  async shutdown(): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    this.#stopping.abort();
    this.#stopTls();
    const closed = this.#listener.close(false);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.#server.tryShutdown(() => resolve());
    });
    clearTimeout(timer);
    await this.#listener.close(true);
    await closed;
  }
}

interface CallContext {
  readonly config: GrpcServerConfig;
  readonly auth: ServerAuthenticator | undefined;
  readonly obs: ObsReport;
  readonly next: LogsConsumer;
  readonly signal: AbortSignal;
  readonly admission: AdmissionCheck | undefined;
}

/** One Export call: authenticate, decode, hand on; resolves to the response or a status. */
async function handleExport(
  call: grpc.ServerUnaryCall<Buffer, Buffer>,
  c: CallContext,
): Promise<Buffer | GrpcError> {
  const headers = c.auth !== undefined || c.config.includeMetadata
    ? metadataHeaders(call.metadata)
    : undefined;
  let client: ClientInfo = { addr: peerAddress(call.getPeer()) };
  if (c.config.includeMetadata && headers !== undefined) {
    // As upstream: the `:authority` pseudo-header stands in for a missing `host`.
    const metadata = new Map(headers);
    if (!metadata.has("host") && call.getHost() !== "") metadata.set("host", [call.getHost()]);
    client = { ...client, metadata };
  }
  if (c.auth !== undefined && headers !== undefined) {
    try {
      client = { ...client, auth: await c.auth.authenticate(headers) };
    } catch (err) {
      return {
        code: grpc.status.UNAUTHENTICATED,
        details: err instanceof Error ? err.message : String(err),
      };
    }
  }
  // grpc-js has read the message already; refusing before decoding it still saves the decode
  // and the records (memory_limiter above its soft limit).
  const refusal = c.admission?.();
  if (refusal !== undefined) return outcomeStatus({ kind: "retryable", ...refusal })!;
  let logs;
  try {
    // A plain view: Buffer's `slice` would share memory where a copy is meant.
    const r = call.request;
    logs = await logsFromProtobuf(new Uint8Array(r.buffer, r.byteOffset, r.byteLength), {
      handOnEncoded: takesEncoded(c.next),
      borrowed: true,
    });
  } catch (err) {
    if (!(err instanceof OtlpDecodeError)) throw err;
    return { code: grpc.status.INVALID_ARGUMENT, details: `Invalid request: ${err.message}` };
  }
  const outcome = await exportLogs(c.next, logs, { client, signal: c.signal }, c.obs);
  return outcomeStatus(outcome) ?? toBuffer(encodeLogsResponse());
}
