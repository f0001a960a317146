/**
 * Starts an HTTP server from a {@linkcode ServerConfig}, as upstream's
 * `confighttp.ServerConfig.ToServer`: every request passes CORS, authentication and the
 * `Content-Encoding` check before the handler; the handler reads the body through
 * {@linkcode IncomingRequest.body}, which decompresses and enforces `max_request_body_size`
 * and `read_timeout`; the peer address (and with `include_metadata` the headers) travel in
 * {@linkcode IncomingRequest.client}.
 *
 * Two transports: `Deno.serve` (plain HTTP, or TLS with a fixed certificate; HTTP/1.1 and
 * HTTP/2) and node:https when `tls` asks for what `Deno.serve` cannot do (client
 * certificates, reloading, `min_version: "1.3"`, `max_version: "1.2"`; HTTP/1.1 only).
 *
 * @module
 */

import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { ByteBudget } from "../admission.ts";
import { getServerAuthenticator, type RequestHeaders, type ServerAuthenticator } from "../auth.ts";
import type { Host } from "../component.ts";
import type { ClientInfo } from "../consumer.ts";
import type { Logger } from "../telemetry/logger.ts";
import { BodyError, normalizeEncoding, readBody } from "./body.ts";
import { parseHostPort, type ServerConfig, type ServerTlsConfig } from "./config.ts";
import { Cors } from "./cors.ts";
import { loadTlsMaterial, reloads, type TlsMaterial, watchTlsMaterial } from "./tls.ts";

/** One request as the handler sees it. */
export interface IncomingRequest {
  /** The request; read its body through {@linkcode IncomingRequest.body}, not directly. */
  readonly request: Request;
  /** The request's path, e.g. `/v1/logs`. */
  readonly path: string;
  /** Peer address, authenticated identity and (with `include_metadata`) the headers. */
  readonly client: ClientInfo;
  /**
   * The body, decompressed per `Content-Encoding`.
   *
   * @throws {BodyError} when it is over `max_request_body_size` (on the wire or decompressed),
   *   does not decompress, or does not arrive within `read_timeout` (answer 400)
   */
  body(): Promise<Uint8Array>;
  /**
   * Gives back what the body took of {@linkcode HttpServerOptions.bodyBudget} (once it is
   * decoded and the bytes are no longer needed); done anyway when the handler returns.
   */
  releaseBody(): void;
}

/** Answers one request. A throw is answered 500 and logged. */
export type RequestHandler = (req: IncomingRequest) => Response | Promise<Response>;

/** Builds the answer for the errors the helper answers itself (upstream's `WithErrorHandler`). */
export type ErrorResponder = (req: Request, status: number, message: string) => Response;

/** What {@linkcode startHttpServer} needs besides the config. */
export interface HttpServerOptions {
  /** Config path of the server's section, for messages (e.g. `receivers::otlp::protocols::http`). */
  readonly name: string;
  readonly logger: Logger;
  /** The host to find `auth::authenticator` on; required when the config sets one. */
  readonly host?: Host;
  /** Formats 400 (bad `Content-Encoding`) and 401 answers; default plain text. */
  readonly errorResponse?: ErrorResponder;
  /**
   * Bounds the bytes of request bodies being read (on the wire and decompressed) at once:
   * `body()` takes bytes before it holds them and waits while there are none. A wait that
   * could never end rejects with `BudgetExhaustedError` (answer 429/503).
   */
  readonly bodyBudget?: ByteBudget;
}

/** A running server. */
export interface HttpServer {
  /** `host:port` actually bound (port 0 resolved). */
  readonly address: string;
  /** `http://…` or `https://…` base URL of the bound address. */
  readonly url: string;
  /** Stops accepting, ends pending body reads, and resolves once in-flight requests ended. */
  close(): Promise<void>;
}

/** How long `close` waits for in-flight requests before dropping their connections. */
const CLOSE_GRACE_MS = 3_000;

function textError(_req: Request, status: number, message: string): Response {
  return new Response(message + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** True when `tls` needs the node:https transport. */
function needsNode(tls: ServerTlsConfig | undefined): boolean {
  return tls !== undefined && (tls.clientCaFile !== "" || reloads(tls) ||
    tls.minVersion === "1.3" || tls.maxVersion === "1.2");
}

function formatAddress(hostname: string, port: number): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/** The request pipeline both transports share. */
class Pipeline {
  readonly #config: ServerConfig;
  readonly #handler: RequestHandler;
  readonly #options: HttpServerOptions;
  readonly #errorResponse: ErrorResponder;
  readonly #cors: Cors | undefined;
  readonly #auth: ServerAuthenticator | undefined;
  readonly #encodings: Set<string>;
  /** Set by `close`: new requests are answered 503 so that clients retry elsewhere. */
  closing = false;
  #inFlight = 0;
  #idle: PromiseWithResolvers<void> | undefined;

  constructor(config: ServerConfig, handler: RequestHandler, options: HttpServerOptions) {
    this.#config = config;
    this.#handler = handler;
    this.#options = options;
    this.#errorResponse = options.errorResponse ?? textError;
    const cors = config.cors ? new Cors(config.cors) : undefined;
    if (config.cors && !cors?.enabled && config.cors.allowedHeaders.length > 0) {
      options.logger.warn(
        `${options.name}::cors: allowed_headers without allowed_origins has no effect`,
      );
    }
    this.#cors = cors?.enabled ? cors : undefined;
    if (config.authenticator !== undefined) {
      if (options.host === undefined) {
        throw new Error(`${options.name}::auth: this server cannot look up authenticators`);
      }
      this.#auth = getServerAuthenticator(options.host, config.authenticator);
    }
    this.#encodings = new Set(config.compressionAlgorithms);
  }

  async handle(req: Request, addr: string): Promise<Response> {
    let res: Response;
    this.#inFlight++;
    try {
      res = this.closing
        ? this.#errorResponse(req, 503, "the server is shutting down")
        : await this.#handleInner(req, addr);
    } catch (err) {
      this.#options.logger.error(`${this.#options.name}: request handler failed`, { error: err });
      res = this.#errorResponse(req, 500, "internal error");
    } finally {
      if (--this.#inFlight === 0) this.#idle?.resolve();
    }
    try {
      this.#decorate(req, res);
    } catch { // a Response with immutable headers (e.g. from fetch): copy it first
      res = new Response(res.body, res);
      this.#decorate(req, res);
    }
    return res;
  }

  #decorate(req: Request, res: Response): void {
    for (const [k, v] of Object.entries(this.#config.responseHeaders)) res.headers.set(k, v);
    if (!this.#config.keepAlivesEnabled) res.headers.set("connection", "close");
    this.#cors?.decorate(req, res);
  }

  /** Resolves when no request is being handled, or after `ms`. */
  async drained(ms: number): Promise<void> {
    if (this.#inFlight === 0) return;
    this.#idle ??= Promise.withResolvers<void>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#idle.promise,
      new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
    ]);
    clearTimeout(timer);
  }

  async #handleInner(req: Request, addr: string): Promise<Response> {
    const preflight = this.#cors?.preflight(req);
    if (preflight) return preflight;
    const url = new URL(req.url);
    let auth: Readonly<Record<string, unknown>> | undefined;
    if (this.#auth) {
      try {
        auth = await this.#auth.authenticate(this.#authHeaders(req, url));
      } catch (err) {
        await req.body?.cancel().catch(() => {});
        return this.#errorResponse(req, 401, err instanceof Error ? err.message : String(err));
      }
    }
    const encoding = normalizeEncoding(req.headers.get("content-encoding"));
    if (!this.#encodings.has(encoding)) {
      await req.body?.cancel().catch(() => {});
      return this.#errorResponse(
        req,
        400,
        `unsupported Content-Encoding: ${req.headers.get("content-encoding")}`,
      );
    }
    const client: ClientInfo = {
      addr,
      ...(this.#config.includeMetadata ? { metadata: headerMap(req.headers) } : {}),
      ...(auth !== undefined ? { auth } : {}),
    };
    const limit = this.#config.maxRequestBodySize;
    const readTimeout = this.#config.readTimeoutMs;
    const started = performance.now();
    let bodyRead = false;
    const pool = this.#options.bodyBudget;
    const budget = pool ? { budget: pool, holder: pool.holder() } : undefined;
    const declared = req.headers.get("content-length");
    const expected = declared !== null && /^\d+$/.test(declared) ? Number(declared) : undefined;
    try {
      const res = await this.#handler({
        request: req,
        path: url.pathname,
        client,
        body: () => {
          bodyRead = true;
          // A declared length over the limit is refused before reading any of it.
          if ((expected ?? 0) > limit) {
            return Promise.reject(
              new BodyError(`request body too large: the limit is ${limit} bytes`),
            );
          }
          if (readTimeout <= 0) {
            return readBody(req.body, encoding, limit, undefined, budget, expected);
          }
          const left = readTimeout - (performance.now() - started);
          const signal = AbortSignal.timeout(Math.max(1, left));
          return readBody(req.body, encoding, limit, signal, budget, expected).catch((err) => {
            if (err instanceof BodyError && signal.aborted) {
              throw new BodyError(
                `request body not received within read_timeout (${readTimeout}ms)`,
              );
            }
            throw err;
          });
        },
        releaseBody: () => {
          if (budget) pool!.release(budget.holder);
        },
      });
      if (!bodyRead && !req.bodyUsed) await req.body?.cancel().catch(() => {});
      return res;
    } finally {
      if (budget) pool!.release(budget.holder);
    }
  }

  #authHeaders(req: Request, url: URL): RequestHeaders {
    const headers = headerMap(req.headers);
    for (const p of this.#config.authRequestParams) {
      const values = url.searchParams.getAll(p);
      if (values.length > 0) headers.set(p, values);
    }
    return headers;
  }
}

function headerMap(headers: Headers): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of headers) {
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

/**
 * Starts serving `handler` as `config` says; resolves once listening.
 *
 * @throws when the address cannot be bound, a TLS file cannot be read, or the authenticator
 *   is not running; the message names the config path and what to do
 */
export async function startHttpServer(
  config: ServerConfig,
  handler: RequestHandler,
  options: HttpServerOptions,
): Promise<HttpServer> {
  const { hostname, port } = parseHostPort(config.endpoint);
  const pipeline = new Pipeline(config, handler, options);
  const material = config.tls ? await loadTlsMaterial(options.name, config.tls) : undefined;
  try {
    return needsNode(config.tls)
      ? await serveNode(hostname, port, config.tls!, material!, pipeline, options)
      : await serveDeno(hostname, port, material, pipeline, options);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `${options.name}: cannot serve on "${config.endpoint}": ${why}; change ${options.name}::endpoint`,
      { cause: err },
    );
  }
}

function serveDeno(
  hostname: string,
  port: number,
  tls: TlsMaterial | undefined,
  pipeline: Pipeline,
  options: HttpServerOptions,
): Promise<HttpServer> {
  const ready = Promise.withResolvers<HttpServer>();
  const drop = new AbortController();
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname,
    port,
    signal: drop.signal,
    ...(tls ? { cert: tls.cert, key: tls.key } : {}),
    onListen: (addr) => {
      const address = formatAddress(addr.hostname, addr.port);
      ready.resolve({
        address,
        url: `${tls ? "https" : "http"}://${address}`,
        close: async () => {
          // Deno's graceful shutdown waits for ever on a client that stopped halfway through a
          // body; so: answer new requests 503, let those in flight finish, then drop every
          // connection.
          pipeline.closing = true;
          await pipeline.drained(CLOSE_GRACE_MS);
          drop.abort();
          await server.finished;
        },
      });
    },
    onError: (err) => {
      options.logger.error(`${options.name}: request failed`, { error: err });
      return new Response("internal error\n", { status: 500 });
    },
  }, (req, info) => pipeline.handle(req, info.remoteAddr.hostname));
  server.finished.catch((err) => ready.reject(err));
  return ready.promise;
}

async function serveNode(
  hostname: string,
  port: number,
  tls: ServerTlsConfig,
  material: TlsMaterial,
  pipeline: Pipeline,
  options: HttpServerOptions,
): Promise<HttpServer> {
  const secure = (m: TlsMaterial) => ({
    cert: m.cert,
    key: m.key,
    ...(m.clientCa !== undefined ? { ca: m.clientCa } : {}),
  });
  const server = https.createServer({
    ...secure(material),
    requestCert: material.clientCa !== undefined,
    rejectUnauthorized: material.clientCa !== undefined,
    minVersion: tls.minVersion === "1.3" ? "TLSv1.3" : "TLSv1.2",
    ...(tls.maxVersion === "1.2" ? { maxVersion: "TLSv1.2" as const } : {}),
  }, (im, res) => void serveNodeRequest(im, res, pipeline, options));
  const stopWatching = watchTlsMaterial(options.name, tls, material, (m) => {
    server.setSecureContext(secure(m));
    options.logger.info(`${options.name}: TLS certificate reloaded`);
  }, (err) => options.logger.warn(`${options.name}: TLS reload failed`, { error: err }));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((err) => {
    stopWatching();
    throw err;
  });
  server.on("tlsClientError", () => {}); // a failed handshake concerns that client only
  const bound = server.address() as { address: string; port: number };
  const address = formatAddress(bound.address, bound.port);
  return {
    address,
    url: `https://${address}`,
    close: async () => {
      stopWatching();
      pipeline.closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** Adapts one node:https request to the shared pipeline and writes its answer back. */
async function serveNodeRequest(
  im: IncomingMessage,
  res: ServerResponse,
  pipeline: Pipeline,
  options: HttpServerOptions,
): Promise<void> {
  try {
    const headers = new Headers();
    for (let i = 0; i + 1 < im.rawHeaders.length; i += 2) {
      headers.append(im.rawHeaders[i]!, im.rawHeaders[i + 1]!);
    }
    const method = im.method ?? "GET";
    const hasBody = method !== "GET" && method !== "HEAD";
    const req = new Request(new URL(im.url ?? "/", "https://localhost"), {
      method,
      headers,
      body: hasBody ? Readable.toWeb(im) as ReadableStream<Uint8Array> : null,
    });
    const addr = (im.socket as TLSSocket).remoteAddress ?? "";
    const answer = await pipeline.handle(req, addr.replace(/^::ffff:/, ""));
    const body = new Uint8Array(await answer.arrayBuffer());
    res.writeHead(answer.status, [...answer.headers].flat());
    res.end(body);
  } catch (err) {
    options.logger.error(`${options.name}: request failed`, { error: err });
    if (!res.headersSent) res.writeHead(400, { "content-type": "text/plain" });
    res.end("bad request\n");
    im.destroy();
  }
}
