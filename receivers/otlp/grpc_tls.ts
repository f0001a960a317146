/**
 * Server TLS for the gRPC side, terminated by a `node:tls` server in front of grpc-js (see
 * `grpc_listener.ts` for why grpc-js does not own the socket). Built from the shared `tls`
 * section (certificate and key from files or PEM text, `client_ca_file` for mTLS,
 * `min_version`, `max_version`); the files are read and re-read by confighttp's TLS helper, so
 * both protocols reload alike (`reload_interval`, `client_ca_file_reload`): new connections
 * get the new material. Material TLS cannot use (say, a new certificate beside the old key
 * half-way through a rotation) keeps the last good one in use, with a warning.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import tls from "node:tls";
import type { ServerTlsConfig } from "../../core/confighttp/config.ts";
import { loadTlsMaterial, type TlsMaterial, watchTlsMaterial } from "../../core/confighttp/tls.ts";
import type { Logger } from "../../core/telemetry/logger.ts";

/**
 * Throws saying what is wrong when TLS could not use `m`: a certificate or key that does not
 * parse, or a key that does not belong to the certificate (`createSecureContext` checks
 * nothing of this under Deno; the handshakes would fail instead).
 */
export function checkTlsMaterial(m: TlsMaterial): void {
  const parse = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw new Error(`the ${what} does not parse (${err instanceof Error ? err.message : err})`);
    }
  };
  const cert = parse("certificate", () => new X509Certificate(m.cert));
  const key = parse("key", () => createPrivateKey(m.key));
  if (!cert.checkPrivateKey(key)) throw new Error("the key does not belong to the certificate");
  if (m.clientCa !== undefined) parse("client CA", () => new X509Certificate(m.clientCa!));
}

function contextOptions(m: TlsMaterial): tls.SecureContextOptions {
  return { cert: m.cert, key: m.key, ...(m.clientCa !== undefined ? { ca: m.clientCa } : {}) };
}

/** A TLS server for gRPC (ALPN `h2`) and the function that stops its file watching. */
export interface GrpcTlsServer {
  readonly server: tls.Server;
  stopWatching(): void;
}

/**
 * Reads the files (rejecting with the key that cannot be read, or what is wrong with the
 * material, under `where`) and builds the server; starts watching the files.
 */
export async function createGrpcTlsServer(
  cfg: ServerTlsConfig,
  logger: Logger,
  where: string,
): Promise<GrpcTlsServer> {
  const material = await loadTlsMaterial(where, cfg);
  try {
    checkTlsMaterial(material);
  } catch (err) {
    throw new Error(`${where}::tls: ${err instanceof Error ? err.message : err}`, { cause: err });
  }
  const mtls = material.clientCa !== undefined;
  const server = tls.createServer({
    ...contextOptions(material),
    requestCert: mtls,
    rejectUnauthorized: mtls,
    minVersion: cfg.minVersion === "1.3" ? "TLSv1.3" : "TLSv1.2",
    ...(cfg.maxVersion === "1.2" ? { maxVersion: "TLSv1.2" as const } : {}),
    ALPNProtocols: ["h2"],
  });
  const stopWatching = watchTlsMaterial(where, cfg, material, (next) => {
    // A throw here keeps the current material and reaches the warning below.
    checkTlsMaterial(next);
    server.setSecureContext(contextOptions(next));
    logger.info("TLS certificate reloaded", { where });
  }, (err) => {
    logger.warn("Cannot reload the TLS files; keeping the last ones", {
      where,
      error: err instanceof Error ? err.message : String(err),
    });
  });
  return { server, stopWatching };
}
