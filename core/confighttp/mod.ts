/**
 * The HTTP server helper every HTTP-serving component shares (upstream's confighttp server
 * side): parse the keys with {@linkcode parseServerConfig} onto
 * {@linkcode defaultServerConfig}, then {@linkcode startHttpServer}.
 *
 * @example
 * ```ts ignore
 * const cfg = parseServerConfig(r, defaultServerConfig("localhost:13133"));
 * const server = await startHttpServer(cfg, async (req) => {
 *   const body = await req.body(); // decompressed, size-limited; throws BodyError (400)
 *   return new Response(`${body.length} bytes from ${req.client.addr}`);
 * }, { name: "extensions::health_check", logger, host });
 * await server.close();
 * ```
 *
 * @module
 */

export { BodyError } from "./body.ts";
export {
  type CorsConfig,
  DEFAULT_MAX_REQUEST_BODY_SIZE,
  defaultServerConfig,
  parseServerConfig,
  type ServerConfig,
  type ServerTlsConfig,
} from "./config.ts";
export {
  type ErrorResponder,
  type HttpServer,
  type HttpServerOptions,
  type IncomingRequest,
  type RequestHandler,
  startHttpServer,
} from "./server.ts";
