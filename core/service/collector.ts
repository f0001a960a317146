/**
 * The collector: loads and validates config, builds the graph, serves its own metrics, and
 * runs until shut down or until a component reports a fatal error.
 *
 * @module
 */

import type { BuildInfo, Factory } from "../component.ts";
import { denoEnv, type EnvLookup } from "../config/expand.ts";
import { loadConfig } from "../config/load.ts";
import { ConfigError, type ConfigIssue, ConfigIssues, formatIssue } from "../config/reader.ts";
import { Registry } from "../registry.ts";
import { createLogger, type Logger, type LogSink, stderrSink } from "../telemetry/logger.ts";
import { MetricsRegistry } from "../telemetry/metrics.ts";
import { type OwnLogsShipper, shipOwnLogs, telemetryResource } from "../telemetry/own_logs.ts";
import { type CollectorConfig, parseCollectorConfig } from "./config.ts";
import { Graph } from "./graph.ts";
import { type MetricsServer, serveMetrics } from "./metrics_server.ts";

/** This build's identity. */
export const BUILD_INFO: BuildInfo = {
  command: "otelcol-deno",
  description: "otelcol-deno, an OpenTelemetry Collector-compatible logs pipeline",
  version: "0.1.0",
};

/** Where config comes from. */
export interface ConfigSources {
  /** `--config` values: paths, `file:`, `env:`, `yaml:`. */
  readonly uris: readonly string[];
  /** `--set` values. */
  readonly sets?: readonly string[];
  /** Environment lookup; `Deno.env` by default. */
  readonly env?: EnvLookup;
}

/** Result of loading config: the typed config when valid, and every issue found. */
export interface LoadResult {
  readonly config: CollectorConfig | undefined;
  readonly issues: readonly ConfigIssue[];
}

/** Loads, merges and validates config without starting anything. */
export async function loadCollectorConfig(
  sources: ConfigSources,
  factories: readonly Factory[],
): Promise<LoadResult> {
  const issues = new ConfigIssues();
  const env = sources.env ?? denoEnv;
  const root = await loadConfig(sources.uris, sources.sets ?? [], { env }, issues);
  const hadLoadErrors = issues.errors.length > 0;
  const config = hadLoadErrors && root === undefined
    ? undefined
    : parseCollectorConfig(root, new Registry(factories), issues);
  return { config: issues.errors.length === 0 ? config : undefined, issues: issues.list };
}

/** Options for a running collector. */
export interface CollectorOptions {
  /** Replaces stderr for the collector's own logs (tests). */
  readonly logSink?: LogSink;
  readonly buildInfo?: BuildInfo;
}

/** A collector built from a validated config. */
export class Collector {
  readonly config: CollectorConfig;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  #graph: Graph;
  #metricsServer: MetricsServer | undefined;
  #ownLogs: OwnLogsShipper | undefined;
  #fatal = Promise.withResolvers<Error>();
  #state: "new" | "running" | "stopping" | "stopped" = "new";

  /** Creates every component; call `start` to run them. */
  constructor(config: CollectorConfig, options: CollectorOptions = {}) {
    this.config = config;
    this.metrics = new MetricsRegistry(config.telemetry.metrics.level);
    const t = config.telemetry.logs;
    const stdoutSink: LogSink = (line) => console.log(line);
    const local = createLogger({
      level: t.level,
      encoding: t.encoding,
      sink: options.logSink ?? (t.output === "stdout" ? stdoutSink : stderrSink),
      fields: t.initialFields,
    });
    const build = options.buildInfo ?? BUILD_INFO;
    this.#ownLogs = t.processors.length === 0 ? undefined : shipOwnLogs(
      local,
      t.processors,
      telemetryResource(config.telemetry.resource, build),
      { name: build.command, version: build.version },
    );
    this.logger = this.#ownLogs?.logger ?? local;
    this.#graph = new Graph(config, {
      logger: this.logger,
      metrics: this.metrics,
      buildInfo: options.buildInfo ?? BUILD_INFO,
    });
  }

  /** Loads config and creates a collector, or throws a {@linkcode ConfigError} with every issue. */
  static async fromSources(
    sources: ConfigSources,
    factories: readonly Factory[],
    options: CollectorOptions = {},
  ): Promise<Collector> {
    const { config, issues } = await loadCollectorConfig(sources, factories);
    if (config === undefined) throw new ConfigError(issues);
    const collector = new Collector(config, options);
    for (const w of issues) collector.logger.warn(formatIssue(w));
    return collector;
  }

  /** Resolves with the error a component reported as fatal. */
  get fatalError(): Promise<Error> {
    return this.#fatal.promise;
  }

  /** The address the metrics endpoint listens on, once started (`host:port`). */
  get metricsAddress(): string | undefined {
    return this.#metricsServer?.address;
  }

  /** Starts the metrics endpoint and every component; throws (after cleaning up) on failure. */
  async start(): Promise<void> {
    if (this.#state !== "new") throw new Error(`Cannot start a collector that is ${this.#state}`);
    this.#state = "running";
    const address = this.config.telemetry.metrics.address;
    try {
      if (address !== undefined) {
        this.#metricsServer = await serveMetrics(address, this.metrics, this.logger);
      }
    } catch (err) {
      this.#state = "stopped";
      throw err;
    }
    try {
      await this.#graph.start({
        reportFatalError: (err) => {
          this.logger.error("Fatal error reported by a component", { error: err });
          this.#fatal.resolve(err);
        },
      });
    } catch (err) {
      await this.#metricsServer?.close();
      this.#state = "stopped";
      throw err;
    }
    this.logger.info("Everything is ready. Begin running and processing data.");
  }

  /** Stops receivers first, drains processors and exporters, stops extensions last. */
  async shutdown(timeoutMs?: number): Promise<void> {
    if (this.#state === "stopping" || this.#state === "stopped") return;
    this.#state = "stopping";
    this.logger.info("Shutdown requested; stopping receivers and draining pipelines");
    await this.#graph.shutdown(timeoutMs);
    await this.#metricsServer?.close();
    this.#state = "stopped";
    this.logger.info("Shutdown complete.");
    await this.#ownLogs?.shutdown();
  }
}
