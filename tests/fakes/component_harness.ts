/**
 * Helpers for component tests: settings, config parsing with its issues, a capturing next
 * consumer, and an in-process collector whose otlp receiver's address is known.
 *
 * @module
 */

import { ComponentId, type CreateSettings, type Kind } from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { type ConfigIssue, ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import type { ConsumeContext, LogsConsumer } from "../../core/consumer.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { Collector } from "../../core/service/collector.ts";
import type { CollectorConfig } from "../../core/service/config.ts";

/** Settings for a component `id` of `kind`, with a fresh metrics registry. */
export function testSettings(id: string, kind: Kind = "processor"): CreateSettings {
  return {
    id: ComponentId.parse(id),
    kind,
    logger: nopLogger(),
    metrics: new MetricsRegistry(),
    componentLabels: { [kind]: id },
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
}

/** Parses `plain` as a component section at `path`; returns the config and every issue. */
export function parseWith<C>(
  parse: (r: ConfigReader) => C,
  plain: unknown,
  path: string,
): { config: C; issues: ConfigIssue[] } {
  const issues = new ConfigIssues();
  const r = new ConfigReader(
    fromPlain(plain, { file: "config.yaml", line: 1, col: 1 }),
    path,
    issues,
  );
  const config = parse(r);
  r.done();
  return { config, issues: issues.list };
}

/** A next consumer that keeps every batch it is given. */
export function capture(): LogsConsumer & { batches: Logs[]; contexts: ConsumeContext[] } {
  const batches: Logs[] = [];
  const contexts: ConsumeContext[] = [];
  return {
    mutatesData: false,
    batches,
    contexts,
    consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
      batches.push(logs);
      contexts.push(ctx);
      return Promise.resolve();
    },
  };
}

/**
 * Starts `config` in-process and returns the collector with its otlp receiver's HTTP address
 * (`host:port`, read from its "Starting HTTP server" log line: configs bind port 0).
 */
export async function startWithOtlpAddress(
  config: CollectorConfig,
): Promise<{ collector: Collector; address: string }> {
  const address = Promise.withResolvers<string>();
  const collector = new Collector(config, {
    logSink: (line) => {
      const m = /Starting HTTP server.*"endpoint":"([^"]+)"/.exec(line);
      if (m) address.resolve(m[1]!);
    },
  });
  await collector.start();
  return { collector, address: await address.promise };
}
