/**
 * Server TLS material: reads the certificate, key and client CA named in `tls`, and re-reads
 * them on `reload_interval` (certificate and key) or when `client_ca_file_reload` is set (the
 * client CA, checked every second), handing changed material to the server.
 *
 * @module
 */

import type { ServerTlsConfig } from "./config.ts";

/** The PEM texts a TLS server needs. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** Client CA for mTLS, when `client_ca_file` is set. */
  readonly clientCa?: string;
}

/** How often a `client_ca_file_reload` file is checked for changes. */
const CLIENT_CA_POLL_MS = 1000;

async function readPem(where: string, key: string, file: string, pem: string): Promise<string> {
  if (pem !== "") return pem;
  try {
    return await Deno.readTextFile(file);
  } catch (err) {
    throw new Error(
      `${where}::tls::${key}: cannot read ${JSON.stringify(file)}: ${
        err instanceof Error ? err.message : err
      }; check the path and the file's permissions`,
      { cause: err },
    );
  }
}

/** Reads the material `tls` names; errors say which key (under `where`) could not be read. */
export async function loadTlsMaterial(where: string, tls: ServerTlsConfig): Promise<TlsMaterial> {
  const [cert, key, clientCa] = await Promise.all([
    readPem(where, "cert_file", tls.certFile, tls.certPem),
    readPem(where, "key_file", tls.keyFile, tls.keyPem),
    tls.clientCaFile === ""
      ? Promise.resolve(undefined)
      : readPem(where, "client_ca_file", tls.clientCaFile, ""),
  ]);
  return { cert, key, clientCa };
}

/** True when `tls` asks for a certificate reload of any kind. */
export function reloads(tls: ServerTlsConfig): boolean {
  return (tls.reloadIntervalMs > 0 && (tls.certFile !== "" || tls.keyFile !== "")) ||
    (tls.clientCaFileReload && tls.clientCaFile !== "");
}

/**
 * Re-reads the material while running and calls `apply` when it changed. A failed read keeps
 * the current material and is passed to `onError`. Returns a function that stops it.
 */
export function watchTlsMaterial(
  where: string,
  tls: ServerTlsConfig,
  current: TlsMaterial,
  apply: (m: TlsMaterial) => void,
  onError: (err: unknown) => void,
): () => void {
  const timers: ReturnType<typeof setInterval>[] = [];
  let busy = false;
  const check = async (certAndKey: boolean, ca: boolean) => {
    if (busy) return;
    busy = true;
    try {
      const fresh = await loadTlsMaterial(where, tls);
      const next: TlsMaterial = {
        cert: certAndKey ? fresh.cert : current.cert,
        key: certAndKey ? fresh.key : current.key,
        clientCa: ca ? fresh.clientCa : current.clientCa,
      };
      if (
        next.cert !== current.cert || next.key !== current.key ||
        next.clientCa !== current.clientCa
      ) {
        apply(next);
        current = next;
      }
    } catch (err) {
      onError(err);
    } finally {
      busy = false;
    }
  };
  if (tls.reloadIntervalMs > 0 && (tls.certFile !== "" || tls.keyFile !== "")) {
    timers.push(setInterval(() => check(true, false), tls.reloadIntervalMs));
  }
  if (tls.clientCaFileReload && tls.clientCaFile !== "") {
    timers.push(setInterval(() => check(false, true), CLIENT_CA_POLL_MS));
  }
  return () => timers.forEach(clearInterval);
}
