/**
 * Config of the `batch` processor, as upstream's `batchprocessor.Config`.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import { checkMetadataKeys } from "../../core/exporterhelper/config.ts";

/** The processor's typed config. */
export interface BatchConfig {
  /** Records that trigger a send (not a cap); 0 sends at once. @default 8192 */
  sendBatchSize: number;
  /** Send what is pending after this long, whatever its size; 0 sends at once. @default 200 */
  timeoutMs: number;
  /** Split batches larger than this; 0 = no limit. @default 0 */
  sendBatchMaxSize: number;
  /** One batcher per distinct combination of these client metadata values. */
  metadataKeys: string[];
  /** Most such combinations; more are refused. @default 1000 */
  metadataCardinalityLimit: number;
}

/** Upstream's defaults. */
export function defaultBatchConfig(): BatchConfig {
  return {
    sendBatchSize: 8192,
    timeoutMs: 200,
    sendBatchMaxSize: 0,
    metadataKeys: [],
    metadataCardinalityLimit: 1000,
  };
}

const UINT32 = { min: 0, max: 0xffff_ffff };

/** Reads the processor's section onto the defaults and validates it as upstream does. */
export function parseBatchConfig(r: ConfigReader): BatchConfig {
  const def = defaultBatchConfig();
  const cfg: BatchConfig = {
    sendBatchSize: r.int("send_batch_size", def.sendBatchSize, UINT32),
    timeoutMs: r.duration("timeout", def.timeoutMs),
    sendBatchMaxSize: r.int("send_batch_max_size", def.sendBatchMaxSize, UINT32),
    metadataKeys: r.stringList("metadata_keys"),
    metadataCardinalityLimit: r.int(
      "metadata_cardinality_limit",
      def.metadataCardinalityLimit,
      UINT32,
    ),
  };
  if (cfg.sendBatchMaxSize > 0 && cfg.sendBatchMaxSize < cfg.sendBatchSize) {
    r.error(
      "send_batch_max_size",
      `Must be greater than or equal to send_batch_size (${cfg.sendBatchSize}), or 0 for no limit`,
    );
  }
  checkMetadataKeys(r, "metadata_keys", cfg.metadataKeys);
  return cfg;
}
