/**
 * The `health_check` extension: serves 200 with upstream's JSON status once every component
 * started and while every component reports ok, and 503 otherwise (before the start
 * completed, once shutdown began, and while any component reports an error).
 *
 * @module
 */

import type { CreateSettings, Extension, Host } from "../../core/component.ts";
import type {
  InstanceId,
  PipelineWatcher,
  StatusEvent,
  StatusWatcher,
} from "../../core/componentstatus/mod.ts";
import {
  type HttpServer,
  type IncomingRequest,
  startHttpServer,
} from "../../core/confighttp/mod.ts";
import type { HealthCheckConfig } from "./config.ts";
import { formatGoDuration } from "./go_duration.ts";
import { HealthState } from "./health.ts";

/** Go's zero `time.Time`, which upstream writes as `upSince` while unavailable. */
const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

/** One running health check server. */
export class HealthCheckExtension implements Extension, StatusWatcher, PipelineWatcher {
  readonly #settings: CreateSettings;
  readonly #config: HealthCheckConfig;
  readonly #state = new HealthState();
  /** `performance.now()` when ready, for the uptime. */
  #readyAt = 0;
  #server: HttpServer | undefined;

  /** Creates the extension; the server starts with `start`. */
  constructor(settings: CreateSettings, config: HealthCheckConfig) {
    this.#settings = settings;
    this.#config = config;
  }

  /** Binds the endpoint and starts serving (503 until the collector is ready). */
  async start(host: Host): Promise<void> {
    const name = `extensions::${this.#settings.id}`;
    this.#server = await startHttpServer(
      this.#config.server,
      (req) => this.#respond(req),
      { name, logger: this.#settings.logger, host },
    );
    this.#settings.logger.info("Health check server listening", {
      endpoint: this.#server.address,
      path: this.#config.path,
    });
  }

  /** Stops serving. */
  async shutdown(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
  }

  /** {@inheritDoc StatusWatcher.componentStatusChanged} */
  componentStatusChanged(source: InstanceId, event: StatusEvent): void {
    this.#state.componentStatusChanged(source, event);
  }

  /** {@inheritDoc PipelineWatcher.ready} */
  ready(): void {
    this.#readyAt = performance.now();
    this.#state.ready(Date.now());
  }

  /** {@inheritDoc PipelineWatcher.notReady} */
  notReady(): void {
    this.#state.notReady();
  }

  #matches(path: string): boolean {
    const p = this.#config.path;
    return p.endsWith("/") ? path.startsWith(p) : path === p;
  }

  #respond(req: IncomingRequest): Response {
    if (!this.#matches(req.path)) {
      return new Response("404 page not found\n", {
        status: 404,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    const since = this.#state.healthySince();
    const status = since === undefined ? 503 : 200;
    const custom = this.#config.responseBody;
    if (custom !== undefined) {
      const text = since === undefined ? custom.unhealthy : custom.healthy;
      const headers: Record<string, string> = text === ""
        ? {}
        : { "content-type": "text/plain; charset=utf-8" };
      return new Response(text, { status, headers });
    }
    const body = since === undefined
      ? { status: "Server not available", upSince: GO_ZERO_TIME, uptime: "" }
      : {
        status: "Server available",
        upSince: new Date(since).toISOString(),
        uptime: formatGoDuration(BigInt(Math.round((performance.now() - this.#readyAt) * 1e6))),
      };
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  }
}
