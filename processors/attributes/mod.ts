/**
 * The `attributes` processor: insert, update, upsert, delete, hash, extract and convert log
 * record attributes.
 *
 * @module
 */

import type { ProcessorFactory } from "../../core/component.ts";
import { AttributesProcessor } from "./attributes_processor.ts";
import { type AttributesConfig, parseAttributesConfig } from "./config.ts";

export type { AttributesConfig } from "./config.ts";

/** Factory of the `attributes` processor (upstream's contrib type, beta for logs). */
export const attributesFactory: ProcessorFactory<AttributesConfig> = {
  kind: "processor",
  type: "attributes",
  stability: "beta",
  description:
    "Inserts, updates, deletes, hashes, extracts and converts log record attributes (include/exclude blocks)",
  parseConfig: parseAttributesConfig,
  create: (_settings, config, next) => new AttributesProcessor(config, next),
};
