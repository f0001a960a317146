/**
 * The `headers_setter` extension: a client authenticator that sets, changes or removes
 * headers of every request of the exporters naming it in `auth::authenticator`, from fixed
 * values or from the metadata of the request the data came in with — one exporter can send
 * each tenant's data with that tenant's header (`X-Scope-OrgID` for Loki).
 *
 * @module
 */

import type { ClientAuthenticator } from "../../core/auth.ts";
import type { ClientInfo } from "../../core/consumer.ts";
import type { HeaderConfig, HeaderSource, HeadersSetterConfig } from "./config.ts";

/** The value a source gives for one request; throws when it cannot choose one. */
function sourceValue(source: HeaderSource, client: ClientInfo | undefined): string {
  switch (source.kind) {
    case "value":
      return source.value;
    case "from_context": {
      const values = client?.metadata?.get(source.key.toLowerCase());
      if (values === undefined || values.length === 0) return source.defaultValue;
      if (values.length > 1) {
        throw new Error(
          `${values.length} values of ${
            JSON.stringify(source.key)
          } in the request metadata: cannot determine which one to use`,
        );
      }
      return values[0]!;
    }
    case "from_attribute": {
      const v = client?.auth?.[source.key];
      return typeof v === "string" ? v : source.defaultValue;
    }
  }
}

/** A `headers_setter` instance. */
export class HeadersSetter implements ClientAuthenticator {
  readonly #headers: readonly (HeaderConfig & { name: string })[];

  /** Builds the extension. */
  constructor(config: HeadersSetterConfig) {
    this.#headers = config.headers.map((h) => ({ ...h, name: h.key.toLowerCase() }));
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  /** Applies every header's action, in order, to `headers` (names lower-cased). */
  applyRequestHeaders(headers: Record<string, string>, client?: ClientInfo): Promise<void> {
    for (const h of this.#headers) {
      if (h.action === "delete") {
        delete headers[h.name];
        continue;
      }
      const value = sourceValue(h.source!, client);
      const present = Object.hasOwn(headers, h.name) && headers[h.name] !== "";
      if (
        h.action === "upsert" || (h.action === "insert" && !present) ||
        (h.action === "update" && present)
      ) {
        headers[h.name] = value;
      }
    }
    return Promise.resolve();
  }

  /** The headers the actions set on a request that has none yet. */
  async getRequestHeaders(client?: ClientInfo): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    await this.applyRequestHeaders(headers, client);
    return headers;
  }
}
