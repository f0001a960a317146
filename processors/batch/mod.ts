/**
 * The `batch` processor: batches records by count and time, per client metadata.
 *
 * @module
 */

import type { ProcessorFactory } from "../../core/component.ts";
import { BatchProcessor } from "./batch_processor.ts";
import { type BatchConfig, parseBatchConfig } from "./config.ts";

export type { BatchConfig } from "./config.ts";

/** Factory of the `batch` processor. */
export const batchFactory: ProcessorFactory<BatchConfig> = {
  kind: "processor",
  type: "batch",
  stability: "beta",
  description:
    "Batches records by count and time (per client metadata); acknowledges after delivery",
  parseConfig: parseBatchConfig,
  create: (settings, config, next) => new BatchProcessor(settings, config, next),
};
