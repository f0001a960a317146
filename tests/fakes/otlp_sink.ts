/**
 * A loopback OTLP/HTTP logs sink for tests and benchmarks. It binds port 0, speaks HTTP or
 * HTTPS (self-signed CA, optionally requiring client certificates), answers from a script
 * (200, partial success, any error status with a google.rpc.Status body and `Retry-After`,
 * slow answers, reset connections), and records every request: headers, raw and
 * decompressed body, and the logs decoded with the **independent** decoder (the generated
 * @bufbuild code from the vendored third_party/opentelemetry-proto), never with the project's own codec.
 *
 * Built on node:http(s) because Deno.serve cannot require client certificates nor reset a
 * connection.
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { create, fromBinary, fromJson, type JsonValue, toBinary, toJson } from "@bufbuild/protobuf";
import {
  ExportLogsServiceRequestSchema,
  ExportLogsServiceResponseSchema,
} from "../../core/pdata/gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { fromGenerated } from "../../core/pdata/testing.ts";
import { concatBytes } from "../../core/bytes.ts";

/** What the sink answers to one request. */
export type SinkReply =
  | { kind: "ok" }
  | { kind: "partial"; rejected: number; message: string }
  | {
    kind: "status";
    status: number;
    /** Goes into a google.rpc.Status body (in the request's encoding). */
    message?: string;
    retryAfter?: string;
    /** Replaces the Status body (with its content type). */
    rawBody?: { contentType: string; text: string };
  }
  | { kind: "slow"; delayMs: number; then?: SinkReply }
  /** Closes the connection without an answer. */
  | { kind: "reset" };

/** One request as the sink saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The body as received. */
  rawBody: Uint8Array;
  /** The body after undoing `Content-Encoding`. */
  body: Uint8Array;
  /** Decoded with the generated code; undefined when decoding failed (see `decodeError`). */
  logs?: Logs;
  decodeError?: string;
  /** Common name of the client certificate, with mTLS. */
  clientCert?: string;
  reply: SinkReply["kind"];
}

/** Files of a throwaway PKI made with `openssl`. */
export interface TestCerts {
  dir: string;
  caFile: string;
  caPem: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** A client certificate signed by a different CA (refused under mTLS). */
  strangerCertFile: string;
  strangerKeyFile: string;
}

/** Options of {@linkcode startOtlpSink}. */
export interface SinkOptions {
  /** Serve HTTPS with these certs (see {@linkcode makeTestCerts}). */
  tls?: {
    certs: TestCerts;
    requireClientCert?: boolean;
    /** Bounds on the TLS versions the sink accepts. */
    minVersion?: "TLSv1.2" | "TLSv1.3";
    maxVersion?: "TLSv1.2" | "TLSv1.3";
  };
  /** Answer when the script is empty. @default {kind: "ok"} */
  defaultReply?: SinkReply;
  /** Keep no requests and decode nothing (benchmarks). */
  discard?: boolean;
  /** Chooses the answer to request number `n` (from 0) when the script is empty. */
  replyFn?: (n: number) => SinkReply;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Creates a CA, a server cert for `dnsNames` (localhost) and 127.0.0.1, and client certs in a
 * temp dir.
 */
export async function makeTestCerts(
  dnsNames: readonly string[] = ["localhost"],
): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "otlp_sink_certs_" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const ca = async (name: string): Promise<void> =>
    await openssl(
      [
        "req",
        "-x509",
        ...ec,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.pem`,
        "-days",
        "2",
        "-subj",
        `/CN=${name}`,
      ],
      dir,
    );
  const leaf = async (name: string, caName: string, ext: string): Promise<void> => {
    await openssl([
      "req",
      ...ec,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${name}`,
    ], dir);
    await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
    await openssl([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${caName}.pem`,
      "-CAkey",
      `${caName}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    ], dir);
  };
  await ca("test-ca");
  await ca("other-ca");
  await leaf(
    "server",
    "test-ca",
    `subjectAltName=${
      dnsNames.map((n) => `DNS:${n},`).join("")
    }IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`,
  );
  await leaf("client", "test-ca", "extendedKeyUsage=clientAuth\n");
  await leaf("stranger", "other-ca", "extendedKeyUsage=clientAuth\n");
  return {
    dir,
    caFile: `${dir}/test-ca.pem`,
    caPem: await Deno.readTextFile(`${dir}/test-ca.pem`),
    serverCertFile: `${dir}/server.pem`,
    serverKeyFile: `${dir}/server.key`,
    clientCertFile: `${dir}/client.pem`,
    clientKeyFile: `${dir}/client.key`,
    strangerCertFile: `${dir}/stranger.pem`,
    strangerKeyFile: `${dir}/stranger.key`,
  };
}

function decompress(encoding: string, body: Uint8Array): Uint8Array {
  switch (encoding) {
    case "":
    case "identity":
      return body;
    case "gzip":
      return new Uint8Array(zlib.gunzipSync(body));
    case "zstd":
      return new Uint8Array(zlib.zstdDecompressSync(body));
    case "deflate":
    case "zlib":
      return new Uint8Array(zlib.inflateSync(body));
    default:
      throw new Error(`unsupported Content-Encoding ${encoding}`);
  }
}

function hexToBase64(hex: string): string {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return btoa(String.fromCharCode(...bytes));
}

/**
 * Decodes an OTLP/JSON request with the generated code. OTLP/JSON writes trace and span ids
 * as hex where the proto3 JSON mapping expects base64, so only those two are converted first.
 */
export function decodeJsonIndependently(text: string): Logs {
  const obj = JSON.parse(text);
  for (const rl of obj.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const r of sl.logRecords ?? []) {
        if (typeof r.traceId === "string") r.traceId = hexToBase64(r.traceId);
        if (typeof r.spanId === "string") r.spanId = hexToBase64(r.spanId);
      }
    }
  }
  return fromGenerated(fromJson(ExportLogsServiceRequestSchema, obj as JsonValue));
}

/** Decodes an OTLP protobuf request with the generated code. */
export function decodeProtoIndependently(body: Uint8Array): Logs {
  return fromGenerated(fromBinary(ExportLogsServiceRequestSchema, body));
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A google.rpc.Status with `code` and `message`, by hand (its .proto is not vendored). */
export function encodeStatus(code: number, message: string): Uint8Array {
  const msg = new TextEncoder().encode(message);
  return new Uint8Array([0x08, ...varint(code), 0x12, ...varint(msg.length), ...msg]);
}

/** The sink; see the module doc. */
export class OtlpSink {
  readonly requests: RecordedRequest[] = [];
  readonly #script: SinkReply[] = [];
  readonly #opts: SinkOptions;
  #server: http.Server | https.Server | undefined;
  #port = 0;
  #waiters: Array<() => void> = [];
  /** Requests received, also in discard mode. */
  count = 0;
  /** Log records received (only when not discarding). */
  records = 0;

  /** Use {@linkcode startOtlpSink}. */
  constructor(options: SinkOptions) {
    this.#opts = options;
  }

  /** `http(s)://localhost:<port>` (localhost matches the test server certificate). */
  get url(): string {
    return `${this.#opts.tls ? "https" : "http"}://${
      this.#opts.tls ? "localhost" : "127.0.0.1"
    }:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /** Answers for the next requests, in order; then `defaultReply`. */
  script(...replies: SinkReply[]): void {
    this.#script.push(...replies);
  }

  /** Changes the answer once the script is used up. */
  setDefault(reply: SinkReply): void {
    this.#opts.defaultReply = reply;
  }

  /** Starts listening (on `port`, or a free one). */
  async listen(port = this.#port): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this.#handle(req, res).catch((err) => {
        try {
          res.writeHead(500).end(String(err));
        } catch { /* connection gone */ }
      });
    };
    const tls = this.#opts.tls;
    const server = tls
      ? https.createServer({
        cert: await Deno.readTextFile(tls.certs.serverCertFile),
        key: await Deno.readTextFile(tls.certs.serverKeyFile),
        ca: tls.requireClientCert ? tls.certs.caPem : undefined,
        requestCert: tls.requireClientCert ?? false,
        rejectUnauthorized: tls.requireClientCert ?? false,
        ...(tls.minVersion ? { minVersion: tls.minVersion } : {}),
        ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
      }, handler)
      : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  /** Stops listening and drops open connections (an outage); `listen()` again to recover. */
  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (s === undefined) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    s.closeAllConnections();
    await closed;
  }

  /** Waits until at least `n` log records (or, in discard mode, requests) arrived. */
  async waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const have = (): number => this.#opts.discard ? this.count : this.records;
    while (have() < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`sink got ${have()} of ${n} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Uint8Array[] = [];
    // Copied out of node's Buffers into plain arrays the sink owns (decoded ids compare as such).
    for await (const c of req) chunks.push(new Uint8Array(c as Uint8Array));
    const n = this.count++;
    const reply = this.#script.shift() ?? this.#opts.replyFn?.(n) ?? this.#opts.defaultReply ??
      { kind: "ok" };
    const contentType = String(req.headers["content-type"] ?? "").split(";")[0]!.trim();
    let accepted = 0;
    if (!this.#opts.discard) {
      const rawBody = concatBytes(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
      }
      const rec: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers,
        rawBody,
        body: rawBody,
        reply: reply.kind,
      };
      // deno-lint-ignore no-explicit-any
      const peer = (req.socket as any).getPeerCertificate?.();
      if (peer?.subject?.CN) rec.clientCert = peer.subject.CN;
      try {
        rec.body = decompress(headers["content-encoding"] ?? "", rawBody);
        rec.logs = contentType === "application/json"
          ? decodeJsonIndependently(new TextDecoder().decode(rec.body))
          : decodeProtoIndependently(rec.body);
      } catch (err) {
        rec.decodeError = err instanceof Error ? err.message : String(err);
      }
      let final: SinkReply = reply;
      while (final.kind === "slow") final = final.then ?? { kind: "ok" };
      if (rec.logs && (final.kind === "ok" || final.kind === "partial")) {
        for (const rl of rec.logs.resourceLogs) {
          for (const sl of rl.scopeLogs) accepted += sl.logRecords.length;
        }
      }
      this.requests.push(rec);
    }
    await this.#reply(reply, contentType, req, res);
    this.records += accepted;
    for (const w of this.#waiters.splice(0)) w();
  }

  async #reply(
    reply: SinkReply,
    contentType: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const json = contentType === "application/json";
    switch (reply.kind) {
      case "slow":
        await new Promise((r) => setTimeout(r, reply.delayMs));
        return this.#reply(reply.then ?? { kind: "ok" }, contentType, req, res);
      case "reset":
        req.socket.destroy();
        return;
      case "ok":
      case "partial": {
        const msg = create(
          ExportLogsServiceResponseSchema,
          reply.kind === "partial"
            ? {
              partialSuccess: {
                rejectedLogRecords: BigInt(reply.rejected),
                errorMessage: reply.message,
              },
            }
            : {},
        );
        const body = json
          ? JSON.stringify(toJson(ExportLogsServiceResponseSchema, msg))
          : toBinary(ExportLogsServiceResponseSchema, msg);
        res.writeHead(200, {
          "content-type": json ? "application/json" : "application/x-protobuf",
        });
        res.end(body);
        return;
      }
      case "status": {
        const headers: Record<string, string> = {};
        if (reply.retryAfter !== undefined) headers["retry-after"] = reply.retryAfter;
        let body: string | Uint8Array;
        if (reply.rawBody) {
          headers["content-type"] = reply.rawBody.contentType;
          body = reply.rawBody.text;
        } else {
          const message = reply.message ?? `status ${reply.status}`;
          headers["content-type"] = json ? "application/json" : "application/x-protobuf";
          body = json ? JSON.stringify({ code: 3, message }) : encodeStatus(3, message);
        }
        res.writeHead(reply.status, headers);
        res.end(body);
        return;
      }
    }
  }
}

/** Starts a sink on a free loopback port. */
export async function startOtlpSink(options: SinkOptions = {}): Promise<OtlpSink> {
  const sink = new OtlpSink(options);
  await sink.listen(0);
  return sink;
}
