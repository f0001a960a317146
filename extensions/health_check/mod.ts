/**
 * The `health_check` extension: an HTTP endpoint for Kubernetes liveness and readiness
 * probes, answering from the status every component reports.
 *
 * @module
 */

import type { ExtensionFactory } from "../../core/component.ts";
import { type HealthCheckConfig, parseHealthCheckConfig } from "./config.ts";
import { HealthCheckExtension } from "./extension.ts";

export type { HealthCheckConfig } from "./config.ts";
export { HealthCheckExtension } from "./extension.ts";

/** Factory of the `health_check` extension (upstream's contrib type, beta). */
export const healthCheckFactory: ExtensionFactory<HealthCheckConfig> = {
  kind: "extension",
  type: "health_check",
  stability: "beta",
  description: "Serves 200 while every component reports ok and the collector runs, 503 otherwise",
  parseConfig: parseHealthCheckConfig,
  create: (settings, config) => new HealthCheckExtension(settings, config),
};
