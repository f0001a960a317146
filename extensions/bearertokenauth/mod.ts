/**
 * The `bearertokenauth` extension: a bearer token on every request of the exporters that
 * name it in `auth::authenticator`, and the check of it on every request of the receivers
 * that name it.
 *
 * @module
 */

import type { ExtensionFactory } from "../../core/component.ts";
import { type BearerTokenAuthConfig, parseBearerTokenAuthConfig } from "./config.ts";
import { BearerTokenAuth } from "./extension.ts";

export type { BearerTokenAuthConfig } from "./config.ts";
export { BearerTokenAuth } from "./extension.ts";

/** Factory of the `bearertokenauth` extension (upstream's contrib type, beta). */
export const bearerTokenAuthFactory: ExtensionFactory<BearerTokenAuthConfig> = {
  kind: "extension",
  type: "bearertokenauth",
  stability: "beta",
  description:
    "Adds a bearer token (static, or from a file that may change) to outgoing requests and checks it on incoming ones",
  parseConfig: parseBearerTokenAuthConfig,
  create: (settings, config) => new BearerTokenAuth(settings, config),
};
