/**
 * The `file_storage` extension: durable key-value storage for the filelog receiver's
 * checkpoints and the exporters' persistent queues, one SQLite (WAL) file per component.
 *
 * @module
 */

import type { ExtensionFactory } from "../../core/component.ts";
import { type FileStorageConfig, parseFileStorageConfig } from "./config.ts";
import { FileStorageExtension } from "./extension.ts";

export type { CompactionConfig, FileStorageConfig } from "./config.ts";
export { FileStorageExtension } from "./extension.ts";

/** Factory of the `file_storage` extension (upstream's contrib type, beta). */
export const fileStorageFactory: ExtensionFactory<FileStorageConfig> = {
  kind: "extension",
  type: "file_storage",
  stability: "beta",
  description: "Stores component state (checkpoints, persistent queues) in SQLite files",
  parseConfig: parseFileStorageConfig,
  create: (settings, config) => new FileStorageExtension(settings, config),
};
