/**
 * Test helpers for the `file_storage` extension (private: not part of its API).
 *
 * @module
 */

import { ComponentId, type CreateSettings, type Host } from "../../core/component.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { fromPlain } from "../../core/config/node.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { type FileStorageConfig, parseFileStorageConfig } from "./config.ts";

/** One captured log line. */
export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** Settings for a test instance, with the log lines it writes collected in `lines`. */
export function testSettings(name = ""): { settings: CreateSettings; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({
    level: "debug",
    encoding: "json",
    sink: (line) => lines.push(JSON.parse(line) as LogLine),
  });
  const settings: CreateSettings = {
    id: new ComponentId("file_storage", name),
    kind: "extension",
    logger,
    metrics: new MetricsRegistry(),
    componentLabels: { extension: name ? `file_storage/${name}` : "file_storage" },
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
  return { settings, lines };
}

/** A host with no extensions whose fatal errors throw. */
export const testHost: Host = {
  getExtension: () => undefined,
  reportFatalError: (e) => {
    throw e;
  },
};

/** Parses a plain config section; returns the config and the issues found. */
export function readConfig(
  plain: Record<string, unknown>,
): { config: FileStorageConfig; issues: ConfigIssues } {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "extensions::file_storage", issues);
  const config = parseFileStorageConfig(r);
  r.done();
  return { config, issues };
}

/** Parses a config that must be valid; throws with the issues otherwise. */
export function validConfig(plain: Record<string, unknown>): FileStorageConfig {
  const { config, issues } = readConfig(plain);
  if (issues.errors.length > 0) {
    throw new Error(issues.errors.map((i) => `${i.path}: ${i.message}`).join("\n"));
  }
  return config;
}

/** Bytes of `n` pseudo-random values, deterministic for a given seed. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Waits until `cond` holds, checking every 20ms; throws after `ms` with `what`. */
export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
