/**
 * Config of the `health_check` extension, as upstream's (legacy, default) health check:
 * confighttp's server keys with `endpoint` `localhost:13133`, `path`, `response_body`, and
 * `check_collector_pipeline`, which upstream still accepts but ignores.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import {
  defaultServerConfig,
  parseServerConfig,
  type ServerConfig,
} from "../../core/confighttp/mod.ts";

/** Upstream's default endpoint (loopback since `component.UseLocalHostAsDefaultHost`). */
export const DEFAULT_ENDPOINT = "localhost:13133";

/** `response_body`: fixed bodies instead of the JSON status. */
export interface ResponseBody {
  healthy: string;
  unhealthy: string;
}

/** The extension's typed config. */
export interface HealthCheckConfig {
  /** The HTTP server (endpoint, tls, cors, auth, …). */
  server: ServerConfig;
  /** Where the status is served; must start with "/". A trailing "/" serves the subtree. */
  path: string;
  /** When set, these bodies replace the JSON status. */
  responseBody: ResponseBody | undefined;
}

/** Keys of upstream's v2 health check (behind `use_v2`), which this project does not have. */
const V2_KEYS = ["use_v2", "http", "grpc", "component_health"];

/** Reads the extension's section onto upstream's defaults and validates it. */
export function parseHealthCheckConfig(r: ConfigReader): HealthCheckConfig {
  const server = parseServerConfig(r, defaultServerConfig(DEFAULT_ENDPOINT));
  const path = r.string("path", "/");
  if (!path.startsWith("/")) {
    r.error("path", `path must start with /: current value is ${JSON.stringify(path)}`);
  }
  let responseBody: ResponseBody | undefined;
  if (r.raw("response_body") !== undefined) {
    const b = r.section("response_body");
    responseBody = { healthy: b.string("healthy", ""), unhealthy: b.string("unhealthy", "") };
  }
  if (r.raw("check_collector_pipeline") !== undefined) {
    const c = r.section("check_collector_pipeline");
    const enabled = c.bool("enabled", false);
    c.string("interval", "5m");
    c.int("exporter_failure_threshold", 5);
    if (enabled) {
      c.warn(
        "enabled",
        "Ignored, as upstream ignores it (it never worked reliably): the health check " +
          "follows every component's status instead",
      );
    }
  }
  for (const key of V2_KEYS) {
    if (r.raw(key) !== undefined) {
      r.error(key, `Upstream's v2 health check ("${key}") is not supported: remove it`);
    }
  }
  return { server, path, responseBody };
}
