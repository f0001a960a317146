/**
 * Server TLS for the gRPC side: grpc-js credentials built from the shared `tls` section
 * (certificate and key from files or PEM text, `client_ca_file` for mTLS, `min_version`,
 * `max_version`). The files are read and re-read by confighttp's TLS helper, so both
 * protocols reload alike (`reload_interval`, `client_ca_file_reload`): new connections get
 * the new material. Material that TLS cannot use (say, a new certificate beside the old key
 * half-way through a rotation) keeps the last good one in use, with a warning.
 *
 * @module
 */

import { ServerCredentials } from "@grpc/grpc-js";
import type { SecureServerOptions } from "node:http2";
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { SecureContextOptions } from "node:tls";
import type { ServerTlsConfig } from "../../core/confighttp/config.ts";
import { loadTlsMaterial, type TlsMaterial, watchTlsMaterial } from "../../core/confighttp/tls.ts";
import type { Logger } from "../../core/telemetry/logger.ts";

/**
 * Throws saying what is wrong when TLS could not use `m`: a certificate or key that does not
 * parse, or a key that does not belong to the certificate. (grpc-js would instead stop
 * accepting connections, and `createSecureContext` checks nothing under Deno.)
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

function contextOptions(m: TlsMaterial): SecureContextOptions {
  return { cert: m.cert, key: m.key, ...(m.clientCa !== undefined ? { ca: m.clientCa } : {}) };
}

/** Server credentials whose certificate, key and client CA can be replaced while serving. */
export class ReloadingServerCredentials extends ServerCredentials {
  #stopWatching: () => void = () => {};

  private constructor(cfg: ServerTlsConfig, material: TlsMaterial) {
    const mtls = material.clientCa !== undefined;
    const options: SecureServerOptions = {
      requestCert: mtls,
      rejectUnauthorized: mtls,
      minVersion: cfg.minVersion === "1.3" ? "TLSv1.3" : "TLSv1.2",
      ...(cfg.maxVersion === "1.2" ? { maxVersion: "TLSv1.2" } : {}),
    };
    super(options, contextOptions(material));
  }

  /**
   * Reads the files (rejecting with the key that cannot be read, under `where`) and starts
   * watching them. Call {@linkcode ReloadingServerCredentials.close} when the server stops.
   */
  static async load(
    cfg: ServerTlsConfig,
    logger: Logger,
    where: string,
  ): Promise<ReloadingServerCredentials> {
    const material = await loadTlsMaterial(where, cfg);
    // Fails here, naming the section, rather than at the first connection.
    try {
      checkTlsMaterial(material);
    } catch (err) {
      throw new Error(`${where}::tls: ${err instanceof Error ? err.message : err}`, { cause: err });
    }
    const creds = new ReloadingServerCredentials(cfg, material);
    creds.#stopWatching = watchTlsMaterial(where, cfg, material, (next) => {
      // A throw here keeps the current material and reaches the warning below.
      checkTlsMaterial(next);
      creds.updateSecureContextOptions(contextOptions(next));
      logger.info("TLS certificate reloaded", { where });
    }, (err) => {
      logger.warn("Cannot reload the TLS files; keeping the last ones", {
        where,
        error: err instanceof Error ? err.message : String(err),
      });
    });
    return creds;
  }

  /** Stops watching the files. */
  close(): void {
    this.#stopWatching();
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
