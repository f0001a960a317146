/**
 * The exporter helper's config sections, as upstream's `configretry.BackOffConfig`
 * (`retry_on_failure`) and `exporterhelper.QueueBatchConfig` (`sending_queue`, with its
 * optional `batch` subsection). Any exporter can read them with {@linkcode parseRetryConfig}
 * and {@linkcode parseQueueConfig}.
 *
 * @module
 */

import type { ConfigReader } from "../config/reader.ts";

/** `retry_on_failure`: exponential backoff with jitter. Durations are milliseconds. */
export interface RetryConfig {
  /** @default true */
  enabled: boolean;
  /** @default 5000 */
  initialIntervalMs: number;
  /** Jitter: each wait is `interval * (1 ± factor)`. @default 0.5 */
  randomizationFactor: number;
  /** @default 1.5 */
  multiplier: number;
  /** @default 30000 */
  maxIntervalMs: number;
  /** Give up after this long; 0 retries forever. @default 300000 */
  maxElapsedTimeMs: number;
}

/** How the queue and the batcher measure data. */
export type SizerType = "requests" | "items" | "bytes";

/** `sending_queue::batch`: batching in the exporter, after the queue. */
export interface QueueBatchConfig {
  /** @default 200 */
  flushTimeoutMs: number;
  /** Only `items` or `bytes`; inherits the queue's `sizer` when that is set and this is not. */
  sizer: "items" | "bytes";
  /** A batch is sent once it holds at least this much. @default 8192 */
  minSize: number;
  /** Larger batches are split; 0 = no limit. @default 0 */
  maxSize: number;
  /** `partition::metadata_keys`: one batch per combination of these client metadata values. */
  metadataKeys: string[];
}

/** `sending_queue`. */
export interface QueueConfig {
  /** @default true */
  enabled: boolean;
  /** @default 10 */
  numConsumers: number;
  /** Capacity, in units of `sizer`. @default 1000 */
  queueSize: number;
  /** @default "requests" */
  sizer: SizerType;
  /** Wait for room when full instead of refusing. @default false */
  blockOnOverflow: boolean;
  /**
   * Resolve `consume` only once the data was sent (or failed). Without `storage` this is
   * always done here (see the README: at-least-once delivery); with `storage` the data is
   * acknowledged once it is durably queued and this must stay false.
   */
  waitForResult: boolean;
  /** Storage extension id for a persistent queue; undefined = in memory. */
  storage: string | undefined;
  /** Batching after the queue; undefined = off (upstream's default). */
  batch: QueueBatchConfig | undefined;
}

/** Upstream's `retry_on_failure` defaults. */
export function defaultRetryConfig(): RetryConfig {
  return {
    enabled: true,
    initialIntervalMs: 5_000,
    randomizationFactor: 0.5,
    multiplier: 1.5,
    maxIntervalMs: 30_000,
    maxElapsedTimeMs: 300_000,
  };
}

/** Upstream's `sending_queue` defaults. */
export function defaultQueueConfig(): QueueConfig {
  return {
    enabled: true,
    numConsumers: 10,
    queueSize: 1000,
    sizer: "requests",
    blockOnOverflow: false,
    waitForResult: true,
    storage: undefined,
    batch: undefined,
  };
}

/** Upstream's `sending_queue::batch: {}` defaults. */
export function defaultQueueBatchConfig(): QueueBatchConfig {
  return { flushTimeoutMs: 200, sizer: "items", minSize: 8192, maxSize: 0, metadataKeys: [] };
}

/** Reads a `retry_on_failure` section onto `def` and validates it as upstream does. */
export function parseRetryConfig(r: ConfigReader, def = defaultRetryConfig()): RetryConfig {
  const cfg: RetryConfig = {
    enabled: r.bool("enabled", def.enabled),
    initialIntervalMs: r.duration("initial_interval", def.initialIntervalMs),
    randomizationFactor: r.number("randomization_factor", def.randomizationFactor, {
      min: 0,
      max: 1,
    }),
    multiplier: r.number("multiplier", def.multiplier, { min: 0 }),
    maxIntervalMs: r.duration("max_interval", def.maxIntervalMs),
    maxElapsedTimeMs: r.duration("max_elapsed_time", def.maxElapsedTimeMs),
  };
  if (cfg.enabled && cfg.maxElapsedTimeMs > 0) {
    if (cfg.maxElapsedTimeMs < cfg.initialIntervalMs) {
      r.error(
        "max_elapsed_time",
        "Must not be less than initial_interval: raise max_elapsed_time, or set it to 0 to retry forever",
      );
    }
    if (cfg.maxElapsedTimeMs < cfg.maxIntervalMs) {
      r.error(
        "max_elapsed_time",
        "Must not be less than max_interval: raise max_elapsed_time, or set it to 0 to retry forever",
      );
    }
  }
  return cfg;
}

const SIZERS: readonly SizerType[] = ["requests", "items", "bytes"];

/** Reads a `sending_queue` section onto `def` and validates it as upstream does. */
export function parseQueueConfig(r: ConfigReader, def = defaultQueueConfig()): QueueConfig {
  const sizerSet = r.has("sizer");
  const cfg: QueueConfig = {
    enabled: r.bool("enabled", def.enabled),
    numConsumers: r.int("num_consumers", def.numConsumers, { min: 1 }),
    queueSize: r.int("queue_size", def.queueSize, { min: 1 }),
    sizer: r.enum("sizer", SIZERS, def.sizer),
    blockOnOverflow: r.bool("block_on_overflow", def.blockOnOverflow),
    waitForResult: def.waitForResult,
    storage: r.optionalString("storage") ?? def.storage,
    batch: def.batch,
  };
  if (r.has("blocking")) {
    // Upstream v0.118–v0.128 name; removed upstream in v0.129, still understood here.
    const blocking = r.bool("blocking", cfg.blockOnOverflow);
    if (r.has("block_on_overflow")) {
      r.error("blocking", 'Set either "block_on_overflow" or its older name "blocking", not both');
    } else {
      r.warn("blocking", 'Deprecated: rename "blocking" to "block_on_overflow"');
      cfg.blockOnOverflow = blocking;
    }
  }
  const waitWritten = r.has("wait_for_result");
  const wait = r.bool("wait_for_result", cfg.storage === undefined);
  if (cfg.storage !== undefined) {
    if (waitWritten && wait) {
      r.error(
        "wait_for_result",
        'Not supported with a persistent queue ("storage"): data is acknowledged once it is on disk',
      );
    }
    cfg.waitForResult = false;
  } else {
    cfg.waitForResult = wait;
  }
  if (r.has("batch")) {
    cfg.batch = parseQueueBatchConfig(r.section("batch"), sizerSet ? cfg.sizer : undefined);
    if (cfg.batch.sizer === cfg.sizer && cfg.batch.minSize > cfg.queueSize) {
      r.error(
        "batch::min_size",
        `Must be less than or equal to queue_size (${cfg.queueSize}), or the queue can never fill a batch`,
      );
    }
  }
  return cfg;
}

/** Reads `sending_queue::batch`; `queueSizer` is the queue's explicitly written sizer. */
export function parseQueueBatchConfig(
  r: ConfigReader,
  queueSizer: SizerType | undefined,
): QueueBatchConfig {
  const def = defaultQueueBatchConfig();
  let sizer: "items" | "bytes" = def.sizer;
  if (r.has("sizer")) {
    sizer = r.enum("sizer", ["items", "bytes"] as const, def.sizer);
  } else if (queueSizer === "items" || queueSizer === "bytes") {
    sizer = queueSizer;
  } else if (queueSizer === "requests") {
    r.error(
      undefined,
      'The batch inherits the queue\'s sizer "requests", but batches can only be measured in "items" or "bytes": set batch::sizer',
    );
  }
  const cfg: QueueBatchConfig = {
    flushTimeoutMs: r.duration("flush_timeout", def.flushTimeoutMs),
    sizer,
    minSize: r.int("min_size", def.minSize, { min: 0 }),
    maxSize: r.int("max_size", def.maxSize, { min: 0 }),
    metadataKeys: r.section("partition").stringList("metadata_keys"),
  };
  if (cfg.flushTimeoutMs <= 0) r.error("flush_timeout", "Must be positive, e.g. 200ms");
  if (cfg.maxSize > 0 && cfg.maxSize < cfg.minSize) {
    r.error("max_size", `Must be greater than or equal to min_size (${cfg.minSize}), or 0`);
  }
  checkMetadataKeys(r.section("partition"), "metadata_keys", cfg.metadataKeys);
  return cfg;
}

/** Reports duplicate (case-insensitive) entries of a `metadata_keys` list. */
export function checkMetadataKeys(r: ConfigReader, key: string, keys: readonly string[]): void {
  const seen = new Set<string>();
  for (const k of keys) {
    const lower = k.toLowerCase();
    if (seen.has(lower)) {
      r.error(key, `Duplicate entry ${JSON.stringify(lower)} (keys are case-insensitive)`);
    }
    seen.add(lower);
  }
}
