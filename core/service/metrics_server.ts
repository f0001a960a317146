/**
 * Serves the collector's own metrics in Prometheus text format on `/metrics`, with the
 * process metrics upstream exposes (`otelcol_process_uptime`, memory), through the same HTTP
 * server helper as the receivers and health_check (`core/confighttp`).
 *
 * @module
 */

import { defaultServerConfig } from "../confighttp/config.ts";
import { type HttpServer, startHttpServer } from "../confighttp/server.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { MetricsRegistry } from "../telemetry/metrics.ts";

/** A running metrics endpoint. */
export type MetricsServer = Pick<HttpServer, "address" | "close">;

function updateProcessMetrics(metrics: MetricsRegistry, started: number): void {
  const mem = Deno.memoryUsage();
  metrics.gauge("otelcol_process_memory_rss", "Total physical memory (resident set size) [bytes]")
    .set(mem.rss, {});
  metrics.gauge("otelcol_process_runtime_heap_alloc_bytes", "Bytes of allocated heap objects")
    .set(mem.heapUsed, {});
  metrics.gauge("otelcol_process_uptime", "Uptime of the process [s]")
    .set((performance.now() - started) / 1000, {});
}

/** Starts the endpoint; rejects with a message naming the address when it cannot listen. */
export async function serveMetrics(
  address: string,
  metrics: MetricsRegistry,
  logger: Logger,
): Promise<MetricsServer> {
  const started = performance.now();
  let server: HttpServer;
  try {
    server = await startHttpServer(defaultServerConfig(address), ({ path }) => {
      if (path !== "/metrics") return new Response("not found\n", { status: 404 });
      updateProcessMetrics(metrics, started);
      return new Response(metrics.renderPrometheus(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }, { name: "service::telemetry::metrics", logger });
  } catch (err) {
    const why = err instanceof Error
      ? (err.cause instanceof Error ? err.cause : err).message
      : String(err);
    throw new Error(
      `Cannot serve own metrics on "${address}": ${why}; set service::telemetry::metrics::address (or level: none)`,
      { cause: err },
    );
  }
  logger.info(`Serving own metrics on ${server.url}/metrics`);
  return server;
}
