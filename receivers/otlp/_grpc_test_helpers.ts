/**
 * Test helpers for the gRPC side: a started server with a recording consumer, and a raw
 * grpc-js client that sends bytes to `LogsService/Export`.
 *
 * @module
 */

import type { AdmissionCheck } from "../../core/admission.ts";
import * as grpc from "@grpc/grpc-js";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { Buffer } from "node:buffer";
import { ComponentId, type CreateSettings, type Extension } from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import type { ConsumeContext } from "../../core/consumer.ts";
import { encodedPieces } from "../../core/pdata/encoded_logs.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { createLogger, type Logger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { type GrpcServerConfig, parseGrpcServerConfig } from "./grpc_config.ts";
import { LOGS_SERVICE, OtlpGrpcServer } from "./grpc_server.ts";

/** Parses `protocols::grpc` from a plain object; throws on config errors. */
export function grpcConfig(plain: Record<string, unknown>): GrpcServerConfig {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "receivers::otlp::protocols::grpc", issues);
  const cfg = parseGrpcServerConfig(r);
  r.done();
  if (issues.errors.length > 0) {
    throw new Error(issues.errors.map((i) => `${i.path}: ${i.message}`).join("\n"));
  }
  return cfg;
}

/** One call that reached the pipeline. */
export interface Received {
  /** As objects; `encoded` says it came as its bytes. */
  logs: Logs;
  encoded: boolean;
  ctx: ConsumeContext;
}

/** A started server and what its pipeline received. */
export interface TestServer {
  server: OtlpGrpcServer;
  /** `127.0.0.1:<port>`. */
  address: string;
  received: Received[];
  metrics: MetricsRegistry;
  logLines: string[];
  /** Decides each call's fate; resolves by default. */
  consume: (logs: Logs, ctx: ConsumeContext) => Promise<void>;
  stop(): Promise<void>;
}

/** Settings of a test `otlp` receiver whose log lines are collected. */
export function testSettings(lines: string[], metrics = new MetricsRegistry()): CreateSettings {
  const logger: Logger = createLogger({
    level: "debug",
    encoding: "json",
    sink: (l) => lines.push(l),
  });
  return {
    id: new ComponentId("otlp"),
    kind: "receiver",
    logger,
    metrics,
    componentLabels: { receiver: "otlp" },
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
}

/** Starts a server on 127.0.0.1:0 with `plain` as `protocols::grpc` (endpoint preset). */
export async function startTestServer(
  plain: Record<string, unknown> = {},
  extensions: Record<string, Extension> = {},
  admission?: AdmissionCheck,
): Promise<TestServer> {
  const config = grpcConfig({ endpoint: "127.0.0.1:0", ...plain });
  const logLines: string[] = [];
  const metrics = new MetricsRegistry();
  const t: TestServer = {
    server: undefined as unknown as OtlpGrpcServer,
    address: "",
    received: [],
    metrics,
    logLines,
    consume: () => Promise.resolve(),
    stop: () => t.server.shutdown(),
  };
  t.server = await OtlpGrpcServer.start({
    config,
    settings: { ...testSettings(logLines, metrics), ...(admission ? { admission } : {}) },
    host: {
      getExtension: (id) => extensions[id],
      reportFatalError: (err) => {
        throw err;
      },
    },
    next: {
      mutatesData: false,
      consume: async (logs, ctx) => {
        await t.consume(logs, ctx);
        const encoded = encodedPieces(logs) !== undefined;
        t.received.push({ logs: { resourceLogs: logs.resourceLogs }, encoded, ctx });
      },
    },
  });
  t.address = `127.0.0.1:${t.server.port}`;
  return t;
}

/** What one raw call came back with. */
export interface CallResult {
  code: grpc.status;
  details: string;
  response?: Buffer;
  trailers?: grpc.Metadata;
}

/** A raw LogsService client. */
export class RawClient {
  readonly #client: grpc.Client & Record<string, CallableFunction>;

  /** Connects to `address` (insecure unless `creds`). */
  constructor(address: string, creds = grpc.credentials.createInsecure(), options = {}) {
    const Ctor = grpc.makeGenericClientConstructor(LOGS_SERVICE, "LogsService");
    this.#client = new Ctor(address, creds, {
      "grpc.max_send_message_length": -1,
      ...options,
    }) as grpc.Client & Record<string, CallableFunction>;
  }

  /** Sends `body` with `metadata`; resolves with the status (never rejects). */
  export(body: Uint8Array, metadata: Record<string, string> = {}): Promise<CallResult> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    return new Promise((resolve) => {
      let trailers: grpc.Metadata | undefined;
      const call = this.#client.Export(
        Buffer.from(body),
        md,
        { deadline: Date.now() + 30_000 },
        (err: grpc.ServiceError | null, response?: Buffer) => {
          if (err) resolve({ code: err.code, details: err.details, trailers: err.metadata });
          else resolve({ code: grpc.status.OK, details: "", response, trailers });
        },
      );
      call.on("status", (s: grpc.StatusObject) => trailers = s.metadata);
    });
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close();
  }
}

/**
 * Reads a `grpc-status-details-bin` value with @bufbuild's wire reader (independent of the
 * encoder): the google.rpc.Status's RetryInfo delay in ms, checking code and type URL.
 */
export function decodeRetryDelayMs(statusBytes: Uint8Array, code?: number): number {
  const fields = (bytes: Uint8Array) => {
    const r = new BinaryReader(bytes);
    const out = new Map<number, (number | Uint8Array)[]>();
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      const v = wt === 0 ? Number(r.uint64()) : r.bytes();
      out.set(no, [...(out.get(no) ?? []), v]);
    }
    return out;
  };
  const status = fields(statusBytes);
  if (code !== undefined && status.get(1)?.[0] !== code) throw new Error("status code differs");
  const any = fields(status.get(3)![0] as Uint8Array);
  const typeUrl = new TextDecoder().decode(any.get(1)![0] as Uint8Array);
  if (typeUrl !== "type.googleapis.com/google.rpc.RetryInfo") throw new Error(typeUrl);
  const retryInfo = fields(any.get(2)![0] as Uint8Array);
  const duration = fields(retryInfo.get(1)![0] as Uint8Array);
  return Number(duration.get(1)?.[0] ?? 0) * 1000 + Number(duration.get(2)?.[0] ?? 0) / 1e6;
}
