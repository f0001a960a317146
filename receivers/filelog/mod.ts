/**
 * The `filelog` receiver (upstream type `file_log`, alias `filelog`): tails files matched by
 * globs, identifies them by fingerprint across rotation and restarts, parses them with
 * stanza operators, and checkpoints positions after the consumer accepted the data.
 *
 * @module
 */

import type { ReceiverFactory } from "../../core/component.ts";
import { type FilelogConfig, parseFilelogConfig } from "./config.ts";
import { FilelogReceiver } from "./receiver.ts";

export type { FilelogConfig } from "./config.ts";
export { FilelogReceiver } from "./receiver.ts";

/** Factory of `filelog` receivers. */
export const filelogFactory: ReceiverFactory<FilelogConfig> = {
  kind: "receiver",
  type: "filelog",
  aliases: ["file_log"],
  stability: "beta",
  description: "Tails log files (Kubernetes pod logs, audit logs) with rotation-safe checkpoints",
  parseConfig: parseFilelogConfig,
  create: (settings, config, next) => new FilelogReceiver(settings, config, next),
};
