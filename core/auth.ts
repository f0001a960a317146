/**
 * Authentication extensions. Client side, for exporters: an extension (e.g. `bearertokenauth`,
 * `headers_setter`) that gives the headers to put on each outgoing request. Server side, for
 * receivers: an extension that checks each incoming request's headers. Components find them on
 * the host by the id in their `auth::authenticator` at start.
 *
 * @module
 */

import type { Extension, Host } from "./component.ts";
import type { ClientInfo } from "./consumer.ts";

/** An extension that authenticates outgoing requests by adding headers. */
export interface ClientAuthenticator extends Extension {
  /**
   * Headers to set on one request (e.g. `Authorization`). `client` is the metadata that
   * came with the data, for authenticators that copy values from it (`headers_setter`).
   * Rejects when no credentials are available; the exporter then retries.
   */
  getRequestHeaders(client?: ClientInfo): Promise<Record<string, string>>;
  /**
   * Optional: changes one request's headers in place (names lower-cased) instead of adding
   * `getRequestHeaders`' result, for authenticators whose actions depend on the headers the
   * request already has (`headers_setter`'s insert, update and delete). Exporters call it when
   * present. Rejects like `getRequestHeaders`.
   */
  applyRequestHeaders?(headers: Record<string, string>, client?: ClientInfo): Promise<void>;
}

/** True when `ext` can authenticate outgoing requests. */
export function isClientAuthenticator(ext: Extension | undefined): ext is ClientAuthenticator {
  return ext !== undefined &&
    typeof (ext as Partial<ClientAuthenticator>).getRequestHeaders === "function";
}

/** Finds the authenticator `id` on the host; throws an error naming it when unusable. */
export function getClientAuthenticator(host: Host, id: string): ClientAuthenticator {
  const ext = host.getExtension(id);
  if (ext === undefined) {
    throw new Error(
      `Authenticator "${id}" is not running: define it under "extensions" and list it in "service::extensions"`,
    );
  }
  if (!isClientAuthenticator(ext)) {
    throw new Error(
      `Extension "${id}" cannot authenticate outgoing requests (it is not a client authenticator)`,
    );
  }
  return ext;
}

/** Request headers as a server sees them: keys lower-cased, every value kept. */
export type RequestHeaders = ReadonlyMap<string, readonly string[]>;

/** An extension that authenticates incoming requests (HTTP and gRPC receivers). */
export interface ServerAuthenticator extends Extension {
  /**
   * Checks one request by its headers (gRPC metadata for gRPC). Resolves to the identity it
   * established (subject, claims), which travels as `ClientInfo.auth`; rejects to refuse the
   * request (HTTP 401, gRPC `Unauthenticated`), with a message safe to show the client.
   */
  authenticate(headers: RequestHeaders): Promise<Readonly<Record<string, unknown>>>;
}

/** True when `ext` can authenticate incoming requests. */
export function isServerAuthenticator(ext: Extension | undefined): ext is ServerAuthenticator {
  return ext !== undefined &&
    typeof (ext as Partial<ServerAuthenticator>).authenticate === "function";
}

/** Finds the server authenticator `id` on the host; throws an error naming it when unusable. */
export function getServerAuthenticator(host: Host, id: string): ServerAuthenticator {
  const ext = host.getExtension(id);
  if (ext === undefined) {
    throw new Error(
      `Authenticator "${id}" is not running: define it under "extensions" and list it in "service::extensions"`,
    );
  }
  if (!isServerAuthenticator(ext)) {
    throw new Error(
      `Extension "${id}" cannot authenticate incoming requests (it is not a server authenticator)`,
    );
  }
  return ext;
}
