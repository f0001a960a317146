/**
 * Test helpers: build and start an `otlp_http` exporter from a plain config.
 *
 * @module
 */

import {
  ComponentId,
  type CreateSettings,
  type Exporter,
  type Extension,
  type Host,
} from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import type { OtlpHttpConfig } from "./config.ts";
import { otlpHttpFactory } from "./mod.ts";

/** Exporter under test with what it logged and counted. */
export interface TestExporter {
  exporter: Exporter;
  config: OtlpHttpConfig;
  settings: CreateSettings;
  metrics: MetricsRegistry;
  lines: string[];
}

/** Parses `plain`, failing on config errors. */
export function parseConfig(plain: Record<string, unknown>): OtlpHttpConfig {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "exporters::otlp_http", issues);
  const cfg = otlpHttpFactory.parseConfig(r);
  r.done();
  if (issues.errors.length > 0) {
    throw new Error(issues.errors.map((i) => `${i.path}: ${i.message}`).join("\n"));
  }
  return cfg;
}

/** Fast retries that never give up, for tests against the sink. */
export const FAST_RETRY = { initial_interval: "5ms", max_interval: "20ms", max_elapsed_time: 0 };

/** Creates and starts an exporter; `extensions` are what the host offers. */
export async function startExporter(
  plain: Record<string, unknown>,
  extensions: Record<string, Extension> = {},
): Promise<TestExporter> {
  const config = parseConfig(plain);
  const lines: string[] = [];
  const metrics = new MetricsRegistry();
  const settings: CreateSettings = {
    id: new ComponentId("otlp_http"),
    kind: "exporter",
    logger: createLogger({ level: "debug", encoding: "json", sink: (l) => lines.push(l) }),
    metrics,
    componentLabels: { exporter: "otlp_http" },
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
  const exporter = otlpHttpFactory.create(settings, config);
  const host: Host = {
    getExtension: (id) => extensions[id],
    reportFatalError: (e) => {
      throw e;
    },
  };
  await exporter.start(host);
  return { exporter, config, settings, metrics, lines };
}

/** Starts an exporter, sends `logs` through it and shuts it down; rejects as `consume` does. */
export async function sendOnce(plain: Record<string, unknown>, logs: Logs): Promise<TestExporter> {
  const t = await startExporter(plain);
  try {
    await t.exporter.consume(logs, {});
  } finally {
    await t.exporter.shutdown();
  }
  return t;
}
