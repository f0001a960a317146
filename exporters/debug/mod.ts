/**
 * The `debug` exporter factory: prints logs to the console for local pipelines and debugging.
 *
 * @module
 */

import type { ExporterFactory } from "../../core/component.ts";
import { type DebugConfig, parseDebugConfig } from "./config.ts";
import { createDebugExporter } from "./exporter.ts";

/** Factory of the `debug` exporter. */
export const debugFactory: ExporterFactory<DebugConfig> = {
  kind: "exporter",
  type: "debug",
  stability: "development",
  description: "Prints logs to the console (counts, one line per record, or every field)",
  parseConfig: parseDebugConfig,
  create: createDebugExporter,
};
