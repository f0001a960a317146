/**
 * The `routing` connector (upstream's contrib `routing`, alpha): sends each record to the
 * pipelines of the first route in its `table` whose condition matches it, and what matches
 * none to `default_pipelines`. Conditions are OTTL (`pkg/ottl/`) in the `resource`, `log` or
 * `request` context. It has no metrics of its own, as upstream.
 *
 * @module
 */

import type { ConnectorFactory } from "../../core/component.ts";
import { parseRoutingConfig, type RoutingConfig } from "./config.ts";
import { RoutingConnector } from "./router.ts";

export type { RoutingConfig } from "./config.ts";
export { RoutingConnector } from "./router.ts";

/** Factory of the `routing` connector. */
export const routingFactory: ConnectorFactory<RoutingConfig> = {
  kind: "connector",
  type: "routing",
  stability: "alpha",
  description: "Routes log records to pipelines by OTTL conditions on resource, record or request",
  parseConfig: parseRoutingConfig,
  pipelineReferences: (config) => config.references,
  create: (settings, config, next) => new RoutingConnector(settings, config, next),
};
