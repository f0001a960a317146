/**
 * Serves the collector's own metrics in Prometheus text format on `/metrics`, with the
 * process metrics upstream exposes (`otelcol_process_uptime`, memory, CPU).
 *
 * @module
 */

import type { Logger } from "../telemetry/logger.ts";
import type { MetricsRegistry } from "../telemetry/metrics.ts";

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `host:port` actually bound (the port is known even when 0 was asked for). */
  readonly address: string;
  close(): Promise<void>;
}

/** Splits `host:port` (or `[v6]:port`); throws a `SyntaxError` naming the address. */
export function parseHostPort(address: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new SyntaxError(
      `Invalid address "${address}": expected host:port, e.g. "localhost:8888"`,
    );
  }
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

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
export function serveMetrics(
  address: string,
  metrics: MetricsRegistry,
  logger: Logger,
): Promise<MetricsServer> {
  const { hostname, port } = parseHostPort(address);
  const started = performance.now();
  const ready = Promise.withResolvers<MetricsServer>();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname,
      port,
      onListen: (addr) => {
        const bound = `${
          addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname
        }:${addr.port}`;
        logger.info(`Serving own metrics on http://${bound}/metrics`);
        ready.resolve({ address: bound, close: () => server.shutdown() });
      },
      onError: (err) => {
        logger.error("Metrics endpoint failed", { error: err });
        return new Response("internal error", { status: 500 });
      },
    }, (req) => {
      const path = new URL(req.url).pathname;
      if (path !== "/metrics") return new Response("not found\n", { status: 404 });
      updateProcessMetrics(metrics, started);
      return new Response(metrics.renderPrometheus(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return Promise.reject(
      new Error(
        `Cannot serve own metrics on "${address}": ${why}; set service::telemetry::metrics::address (or level: none)`,
        { cause: err },
      ),
    );
  }
  return ready.promise;
}
