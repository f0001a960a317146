/**
 * Test helpers for operators: an operator list parsed from plain objects, a built pipeline
 * collecting what it emits and the errors it counts, and a receiver adapter around them.
 *
 * @module
 */

import { ComponentId, type CreateSettings } from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import type { LogsConsumer } from "../../core/consumer.ts";
import { type Logger, nopLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { ReceiverAdapter, type RetryConfig } from "./adapter/receiver_adapter.ts";
import type { Entry } from "./entry.ts";
import { type OperatorSpec, parseOperators, Pipeline } from "./operator/registry.ts";

/** Parses an `operators` list; returns the specs and the error messages with their paths. */
export function parseOperatorList(
  operators: Array<Record<string, unknown>>,
): { specs: OperatorSpec[]; errors: string[] } {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain({ operators }), "receivers::test", issues);
  const specs = parseOperators(r);
  r.done();
  return { specs, errors: issues.errors.map((i) => `${i.path}: ${i.message}`) };
}

/** A pipeline of `operators` as configured, collecting what it emits and its error count. */
export interface TestPipeline {
  p: Pipeline;
  out: Entry[];
  /** Errors counted by operator id, in order. */
  errors: string[];
}

/**
 * Builds a {@linkcode TestPipeline}. By default its logger drops everything and what it emits
 * is collected in `out`; `sink` receives it instead.
 */
export function testPipeline(
  operators: Array<Record<string, unknown>>,
  options: { logger?: Logger; sink?: (e: Entry) => void } = {},
): TestPipeline {
  const { specs, errors: configErrors } = parseOperatorList(operators);
  if (configErrors.length > 0) throw new Error(`config errors: ${configErrors.join("; ")}`);
  const out: Entry[] = [];
  const errors: string[] = [];
  const p = new Pipeline(
    specs,
    { logger: options.logger ?? nopLogger(), countError: (id) => errors.push(id) },
    options.sink ?? ((e) => out.push(e)),
  );
  return { p, out, errors };
}

/**
 * A receiver adapter of `operators` delivering to `next`, retrying quickly and forever unless
 * `retry` says otherwise; `abandon` ends deliveries in progress.
 */
export function testAdapter(
  next: LogsConsumer,
  operators: Array<Record<string, unknown>> = [],
  options: { retry?: RetryConfig; abandon?: AbortController } = {},
): ReceiverAdapter {
  // Built here: pkg/ may import only core/ (tests/fakes' testSettings is out of reach).
  const settings: CreateSettings = {
    id: new ComponentId("test"),
    kind: "receiver",
    logger: nopLogger(),
    metrics: new MetricsRegistry(),
    componentLabels: { receiver: "test" },
    buildInfo: { command: "t", description: "t", version: "0" },
  };
  return new ReceiverAdapter(settings, next, {
    operators: parseOperatorList(operators).specs,
    retry: options.retry ??
      { enabled: true, initialIntervalMs: 1, maxIntervalMs: 2, maxElapsedTimeMs: 0 },
    countError: () => {},
    stopping: new AbortController().signal,
    abandon: (options.abandon ?? new AbortController()).signal,
  });
}
