/**
 * The `resource` processor: insert, update, upsert, delete, hash, extract and convert
 * resource attributes.
 *
 * @module
 */

import type { ProcessorFactory } from "../../core/component.ts";
import { parseResourceConfig, type ResourceConfig } from "./config.ts";
import { ResourceProcessor } from "./resource_processor.ts";

export type { ResourceConfig } from "./config.ts";

/** Factory of the `resource` processor (upstream's contrib type, beta). */
export const resourceFactory: ProcessorFactory<ResourceConfig> = {
  kind: "processor",
  type: "resource",
  stability: "beta",
  description: "Inserts, updates, deletes, hashes, extracts and converts resource attributes",
  parseConfig: parseResourceConfig,
  create: (_settings, config, next) => new ResourceProcessor(config, next),
};
