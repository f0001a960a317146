/**
 * Test helpers: start an `otlp` receiver from a plain config in front of a recording consumer.
 *
 * @module
 */

import { ComponentId, type CreateSettings, type Extension } from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import type { ConsumeContext, LogsConsumer } from "../../core/consumer.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import type { OtlpReceiverConfig } from "./config.ts";
import { encodedPieces } from "../../core/pdata/encoded_logs.ts";
import { otlpFactory } from "./mod.ts";
import type { OtlpReceiver } from "./receiver.ts";

/** A running receiver and what reached its consumer. */
export interface TestReceiver {
  receiver: OtlpReceiver;
  /** `http://127.0.0.1:port` (or https). */
  base: string;
  /** `base` + `/v1/logs`. */
  url: string;
  metrics: MetricsRegistry;
  /** What reached the consumer, as objects; `encoded` when it came as its bytes. */
  received: { logs: Logs; encoded: boolean; ctx: ConsumeContext }[];
  lines: string[];
  close(): Promise<void>;
}

/** Parses a receiver config, throwing on errors. */
export function parseReceiverConfig(plain: Record<string, unknown>): OtlpReceiverConfig {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "receivers::otlp", issues);
  const cfg = otlpFactory.parseConfig(r);
  r.done();
  if (issues.errors.length > 0) {
    throw new Error(issues.errors.map((i) => `${i.path}: ${i.message}`).join("\n"));
  }
  return cfg;
}

/**
 * Starts a receiver with `http` as its `protocols::http` (endpoint defaults to
 * `127.0.0.1:0`). `consume` decides each answer; by default every batch is accepted. With
 * `keep: false` nothing is kept in `received` (long runs). The consumer declares
 * `mutatesData` as given (a pipeline that changes nothing by default).
 */
export async function startReceiver(
  http: Record<string, unknown> = {},
  consume?: (logs: Logs, ctx: ConsumeContext) => Promise<void>,
  extensions: Record<string, Extension> = {},
  keep = true,
  mutatesData = false,
): Promise<TestReceiver> {
  const config = parseReceiverConfig({
    protocols: { http: { endpoint: "127.0.0.1:0", ...http } },
  });
  const metrics = new MetricsRegistry();
  const lines: string[] = [];
  const received: TestReceiver["received"] = [];
  const settings: CreateSettings = {
    id: new ComponentId("otlp"),
    kind: "receiver",
    logger: createLogger({ level: "debug", encoding: "json", sink: (l) => lines.push(l) }),
    metrics,
    componentLabels: { receiver: "otlp" },
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
  const next: LogsConsumer = {
    mutatesData,
    async consume(logs, ctx) {
      if (consume) await consume(logs, ctx);
      const encoded = encodedPieces(logs) !== undefined;
      if (keep) received.push({ logs: { resourceLogs: logs.resourceLogs }, encoded, ctx });
    },
  };
  const receiver = otlpFactory.create(settings, config, next) as OtlpReceiver;
  await receiver.start({
    getExtension: (id) => extensions[id],
    reportFatalError: (e) => {
      throw e;
    },
  });
  const scheme = config.http?.server.tls ? "https" : "http";
  const base = `${scheme}://${receiver.httpAddress}`;
  return {
    receiver,
    base,
    url: `${base}${config.http?.logsUrlPath ?? "/v1/logs"}`,
    metrics,
    received,
    lines,
    close: () => receiver.shutdown(),
  };
}
