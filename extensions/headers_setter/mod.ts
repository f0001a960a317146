/**
 * The `headers_setter` extension: request headers from fixed values or from the incoming
 * request's metadata, for exporters' `auth::authenticator`.
 *
 * @module
 */

import type { ExtensionFactory } from "../../core/component.ts";
import { type HeadersSetterConfig, parseHeadersSetterConfig } from "./config.ts";
import { HeadersSetter } from "./extension.ts";

export type { HeadersSetterConfig } from "./config.ts";
export { HeadersSetter } from "./extension.ts";

/** Factory of the `headers_setter` extension (upstream's contrib type, alpha). */
export const headersSetterFactory: ExtensionFactory<HeadersSetterConfig> = {
  kind: "extension",
  type: "headers_setter",
  stability: "alpha",
  description: "Sets outgoing request headers from fixed values or the incoming request's metadata",
  parseConfig: parseHeadersSetterConfig,
  create: (_settings, config) => new HeadersSetter(config),
};
