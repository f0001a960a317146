/**
 * The `otlp` receiver: serves OTLP/HTTP (and OTLP/gRPC, see `grpc_server.ts`) and hands each
 * request's logs to the pipeline, answering only once the pipeline accepted or refused them.
 *
 * @module
 */

import { ByteBudget } from "../../core/admission.ts";
import type { CreateSettings, Host, Receiver } from "../../core/component.ts";
import { type HttpServer, startHttpServer } from "../../core/confighttp/mod.ts";
import type { LogsConsumer } from "../../core/consumer.ts";
import { ObsReport } from "../../core/receiverhelper/mod.ts";
import type { OtlpReceiverConfig } from "./config.ts";
import type { OtlpGrpcServer } from "./grpc_server.ts";
import { logsHandler, otlpErrorResponse } from "./http.ts";

/** One `otlp` receiver instance. */
export class OtlpReceiver implements Receiver {
  readonly #settings: CreateSettings;
  readonly #config: OtlpReceiverConfig;
  readonly #next: LogsConsumer;
  readonly #stopping = new AbortController();
  #http: HttpServer | undefined;
  #grpc: OtlpGrpcServer | undefined;

  /** Builds the receiver; nothing listens before `start`. */
  constructor(settings: CreateSettings, config: OtlpReceiverConfig, next: LogsConsumer) {
    this.#settings = settings;
    this.#config = config;
    this.#next = next;
  }

  /** The bound HTTP address (`host:port`), once started. */
  get httpAddress(): string | undefined {
    return this.#http?.address;
  }

  /** The bound gRPC port, once started. */
  get grpcPort(): number | undefined {
    return this.#grpc?.port;
  }

  /** Starts the configured protocols; rejects naming the setting that prevents it. */
  async start(host: Host): Promise<void> {
    const grpc = this.#config.grpc;
    if (grpc !== undefined) {
      // Loaded only when used: grpc-js reads GRPC_* variables as it loads, which a process
      // without env access to them (an agent under its baked allow-list) must not do.
      const { OtlpGrpcServer } = await import("./grpc_server.ts");
      this.#grpc = await OtlpGrpcServer.start({
        config: grpc,
        settings: this.#settings,
        host,
        next: this.#next,
      });
    }
    try {
      await this.#startHttp(host);
    } catch (err) {
      // As upstream: a started gRPC server is stopped when HTTP cannot start.
      await this.shutdown();
      throw err;
    }
  }

  async #startHttp(host: Host): Promise<void> {
    const http = this.#config.http;
    if (http !== undefined) {
      const name = `receivers::${this.#settings.id}::protocols::http`;
      this.#http = await startHttpServer(
        http.server,
        logsHandler({
          logsUrlPath: http.logsUrlPath,
          next: this.#next,
          obs: new ObsReport(this.#settings, "http"),
          logger: this.#settings.logger,
          signal: this.#stopping.signal,
          ...(this.#settings.admission ? { admission: this.#settings.admission } : {}),
        }),
        {
          name,
          logger: this.#settings.logger,
          host,
          errorResponse: otlpErrorResponse,
          ...(this.#config.requestLimitBytes > 0
            ? { bodyBudget: new ByteBudget(this.#config.requestLimitBytes) }
            : {}),
        },
      );
      this.#settings.logger.info("Starting HTTP server", { endpoint: this.#http.address });
    }
  }

  /** Stops listening; requests still waiting on the pipeline are told to give up. */
  async shutdown(): Promise<void> {
    this.#stopping.abort();
    const http = this.#http;
    const grpc = this.#grpc;
    this.#http = undefined;
    this.#grpc = undefined;
    await Promise.all([http?.close(), grpc?.shutdown()]);
  }
}
