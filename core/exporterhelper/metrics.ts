/**
 * The exporter helper's own metrics, with upstream's names: records sent, failed to send
 * and refused by the queue (counters), queue size and capacity (gauges, with
 * `data_type: "logs"` as upstream adds), requests in flight, and the sizes of the batches
 * `sending_queue::batch` sends (histograms; bytes only at the detailed level, as upstream).
 *
 * @module
 */

import type { Counter, Gauge, Histogram, Labels, MetricsRegistry } from "../telemetry/metrics.ts";

/** Metric names, exactly as upstream's exporterhelper. */
export const EXPORTER_METRICS = {
  sent: "otelcol_exporter_sent_log_records",
  sendFailed: "otelcol_exporter_send_failed_log_records",
  enqueueFailed: "otelcol_exporter_enqueue_failed_log_records",
  queueSize: "otelcol_exporter_queue_size",
  queueCapacity: "otelcol_exporter_queue_capacity",
  inFlight: "otelcol_exporter_in_flight_requests",
  batchSendSize: "otelcol_exporter_queue_batch_send_size",
  batchSendSizeBytes: "otelcol_exporter_queue_batch_send_size_bytes",
} as const;

/**
 * Upstream's bucket boundaries for batch sizes in records (or sizer units): the exporter's
 * `queue_batch_send_size` and the batch processor's `batch_send_size` use the same.
 */
export const BATCH_SIZE_BUCKETS: readonly number[] = [
  ...[10, 25, 50, 75, 100, 250, 500, 750],
  ...Array.from({ length: 10 }, (_, i) => (i + 1) * 1000),
  ...[20000, 30000, 50000, 100000],
];

/** Upstream's bucket boundaries for `queue_batch_send_size_bytes`, as upstream declares them. */
const BATCH_BYTES_BUCKETS = [
  ...[10, 25, 50, 75, 100, 250, 500, 750],
  ...Array.from({ length: 6 }, (_, i) => (i + 1) * 1000),
];

/** The counters and gauges of one exporter. */
export class ExporterMetrics {
  readonly #labels: Labels;
  readonly #gaugeLabels: Labels;
  readonly #sent: Counter;
  readonly #sendFailed: Counter;
  readonly #enqueueFailed: Counter;
  readonly #queueSize: Gauge;
  readonly #queueCapacity: Gauge;
  readonly #inFlight: Gauge;
  #inFlightCount = 0;
  readonly #batchSendSize: Histogram;
  readonly #batchSendSizeBytes: Histogram | undefined;

  /** Registers the families in `registry`; series carry `labels` (the component's). */
  constructor(registry: MetricsRegistry, labels: Labels) {
    this.#labels = labels;
    this.#gaugeLabels = { ...labels, data_type: "logs" };
    this.#sent = registry.counter(
      EXPORTER_METRICS.sent,
      "Number of log record successfully sent to destination.",
    );
    this.#sendFailed = registry.counter(
      EXPORTER_METRICS.sendFailed,
      "Number of log records in failed attempts to send to destination.",
    );
    this.#enqueueFailed = registry.counter(
      EXPORTER_METRICS.enqueueFailed,
      "Number of log records failed to be added to the sending queue.",
    );
    this.#queueSize = registry.gauge(
      EXPORTER_METRICS.queueSize,
      "Current size of the retry queue (in batches)",
    );
    this.#queueCapacity = registry.gauge(
      EXPORTER_METRICS.queueCapacity,
      "Fixed capacity of the retry queue (in batches)",
    );
    // Upstream's is an up-down counter, which Prometheus shows as a gauge.
    this.#inFlight = registry.gauge(
      EXPORTER_METRICS.inFlight,
      "Number of export requests currently in-flight (including retry backoff).",
    );
    this.#batchSendSize = registry.histogram(
      EXPORTER_METRICS.batchSendSize,
      "Number of units in the batch",
      BATCH_SIZE_BUCKETS,
    );
    this.#batchSendSizeBytes = registry.level === "detailed"
      ? registry.histogram(
        EXPORTER_METRICS.batchSendSizeBytes,
        "Number of bytes in batch that was sent. Only available on detailed level.",
        BATCH_BYTES_BUCKETS,
      )
      : undefined;
    this.#inFlight.set(0, labels);
    // Counters exist from the start, so dashboards see 0 rather than no series.
    this.#sent.add(0, labels);
    this.#sendFailed.add(0, labels);
    this.#enqueueFailed.add(0, labels);
  }

  /** Counts records delivered. */
  sent(records: number): void {
    if (records > 0) this.#sent.add(records, this.#labels);
  }

  /** Counts records that failed for good (permanent error, retries exhausted, shutdown). */
  sendFailed(records: number): void {
    if (records > 0) this.#sendFailed.add(records, this.#labels);
  }

  /** Counts records the queue refused. */
  enqueueFailed(records: number): void {
    if (records > 0) this.#enqueueFailed.add(records, this.#labels);
  }

  /** Publishes the queue's size and capacity. */
  queue(size: number, capacity: number): void {
    this.#queueSize.set(size, this.#gaugeLabels);
    this.#queueCapacity.set(capacity, this.#gaugeLabels);
  }

  /** Counts a request entering (+1) or leaving (-1) delivery, retries included. */
  inFlight(delta: 1 | -1): void {
    this.#inFlightCount += delta;
    this.#inFlight.set(this.#inFlightCount, this.#labels);
  }

  /** Records the size of a batch `sending_queue::batch` sends, in its sizer's units. */
  batchSent(size: number): void {
    this.#batchSendSize.record(size, this.#labels);
  }

  /** True when batch sizes in bytes are wanted (the detailed level): measuring costs a pass. */
  get wantsBatchBytes(): boolean {
    return this.#batchSendSizeBytes !== undefined;
  }

  /** Records the protobuf size of a batch `sending_queue::batch` sends. */
  batchBytes(bytes: number): void {
    this.#batchSendSizeBytes?.record(bytes, this.#labels);
  }

  /** Forgets the queue gauges (at shutdown). */
  removeQueue(): void {
    this.#queueSize.remove(this.#gaugeLabels);
    this.#queueCapacity.remove(this.#gaugeLabels);
  }
}
