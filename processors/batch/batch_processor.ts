/**
 * The `batch` processor: gathers records into batches of `send_batch_size` or whatever
 * arrived within `timeout`, split at `send_batch_max_size`, one batcher per combination of
 * `metadata_keys` values.
 *
 * Unlike upstream, `consume` resolves only once the batch (or batches) holding the caller's
 * records were accepted downstream, and rejects with the downstream error otherwise. So
 * backpressure and errors reach the receiver, and a receiver that checkpoints after
 * `consume` (filelog) never loses records on a crash. A caller that wants throughput keeps
 * several `consume` calls in flight: they share one batch.
 *
 * @module
 */

import type { CreateSettings, Processor } from "../../core/component.ts";
import { type ConsumeContext, type LogsConsumer, RetryableError } from "../../core/consumer.ts";
import { type FlushTrigger, PartitionedBatcher } from "../../core/exporterhelper/batcher.ts";
import { BATCH_SIZE_BUCKETS } from "../../core/exporterhelper/metrics.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { logsRequestSize } from "../../core/pdata/otlp_proto.ts";
import type { Counter, Gauge, Histogram } from "../../core/telemetry/metrics.ts";
import type { BatchConfig } from "./config.ts";

/** Upstream's metric names for this processor. */
export const BATCH_METRICS = {
  sizeTrigger: "otelcol_processor_batch_batch_size_trigger_send",
  timeoutTrigger: "otelcol_processor_batch_timeout_trigger_send",
  cardinality: "otelcol_processor_batch_metadata_cardinality",
  sendSize: "otelcol_processor_batch_batch_send_size",
  sendSizeBytes: "otelcol_processor_batch_batch_send_size_bytes",
} as const;

/** Upstream's bucket boundaries for `batch_send_size_bytes`: 128 B to 16 MiB, doubling. */
const SEND_SIZE_BYTES_BUCKETS = Array.from({ length: 18 }, (_, i) => 128 * 2 ** i);

/** The processor; see the module doc. */
export class BatchProcessor implements Processor {
  /**
   * Batches are assembled from the incoming resources and split with `splitLogs`, which
   * copies what it must: records are never changed, so producers need not hand over copies.
   */
  readonly mutatesData = false;
  readonly #batcher: PartitionedBatcher;
  readonly #settings: CreateSettings;
  #stopped = false;
  #shutdown: Promise<void> | undefined;

  /** Builds the processor in front of `next`. */
  constructor(settings: CreateSettings, config: BatchConfig, next: LogsConsumer) {
    this.#settings = settings;
    const labels = settings.componentLabels;
    const sizeTrigger: Counter = settings.metrics.counter(
      BATCH_METRICS.sizeTrigger,
      "Number of times the batch was sent due to a size trigger",
    );
    const timeoutTrigger: Counter = settings.metrics.counter(
      BATCH_METRICS.timeoutTrigger,
      "Number of times the batch was sent due to a timeout trigger",
    );
    const cardinality: Gauge = settings.metrics.gauge(
      BATCH_METRICS.cardinality,
      "Number of distinct metadata value combinations being processed",
    );
    const sendSize: Histogram = settings.metrics.histogram(
      BATCH_METRICS.sendSize,
      "Number of units in the batch",
      BATCH_SIZE_BUCKETS,
    );
    // As upstream, the protobuf size of every batch is measured only at the detailed level:
    // it costs a pass over the batch.
    const sendSizeBytes: Histogram | undefined = settings.metrics.level === "detailed"
      ? settings.metrics.histogram(
        BATCH_METRICS.sendSizeBytes,
        "Number of bytes in batch that was sent. Only available on detailed level.",
        SEND_SIZE_BYTES_BUCKETS,
      )
      : undefined;
    sizeTrigger.add(0, labels);
    timeoutTrigger.add(0, labels);
    cardinality.set(config.metadataKeys.length === 0 ? 1 : 0, labels);
    this.#batcher = new PartitionedBatcher({
      sizer: "items",
      minSize: config.sendBatchSize,
      maxSize: config.sendBatchMaxSize,
      timeoutMs: config.timeoutMs,
      metadataKeys: config.metadataKeys,
      cardinalityLimit: config.metadataCardinalityLimit,
      send: (logs, client) => {
        sendSizeBytes?.record(logsRequestSize(logs), labels);
        return next.consume(logs, client ? { client } : {});
      },
      onFlush: (trigger: FlushTrigger, size: number) => {
        if (trigger === "timeout") timeoutTrigger.add(1, labels);
        else if (trigger === "size") sizeTrigger.add(1, labels);
        sendSize.record(size, labels);
      },
      onPartitions: (n) => cardinality.set(n, labels),
    });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Adds `logs` to its batch; resolves once that batch was accepted downstream. */
  consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
    if (this.#stopped) {
      return Promise.reject(new RetryableError(`Processor ${this.#settings.id} is shut down`));
    }
    return this.#batcher.add(logs, ctx.client);
  }

  /** Sends what is pending and waits for every batch in flight. */
  shutdown(): Promise<void> {
    this.#stopped = true;
    this.#shutdown ??= this.#batcher.flushAll();
    return this.#shutdown;
  }
}
