/**
 * The exporter helper's own metrics, with upstream's names: records sent, failed to send
 * and refused by the queue (counters), queue size and capacity (gauges, with
 * `data_type: "logs"` as upstream adds).
 *
 * @module
 */

import type { Counter, Gauge, Labels, MetricsRegistry } from "../telemetry/metrics.ts";

/** Metric names, exactly as upstream's exporterhelper. */
export const EXPORTER_METRICS = {
  sent: "otelcol_exporter_sent_log_records",
  sendFailed: "otelcol_exporter_send_failed_log_records",
  enqueueFailed: "otelcol_exporter_enqueue_failed_log_records",
  queueSize: "otelcol_exporter_queue_size",
  queueCapacity: "otelcol_exporter_queue_capacity",
} as const;

/** The counters and gauges of one exporter. */
export class ExporterMetrics {
  readonly #labels: Labels;
  readonly #gaugeLabels: Labels;
  readonly #sent: Counter;
  readonly #sendFailed: Counter;
  readonly #enqueueFailed: Counter;
  readonly #queueSize: Gauge;
  readonly #queueCapacity: Gauge;

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

  /** Forgets the queue gauges (at shutdown). */
  removeQueue(): void {
    this.#queueSize.remove(this.#gaugeLabels);
    this.#queueCapacity.remove(this.#gaugeLabels);
  }
}
