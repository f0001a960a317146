/**
 * The `otlp_http` exporter (older name `otlphttp`): sends logs to any OTLP/HTTP endpoint,
 * with upstream's queue, retry, TLS, proxy and authentication settings.
 *
 * @module
 */

import type { ExporterFactory } from "../../core/component.ts";
import { newLogsExporter } from "../../core/exporterhelper/logs_exporter.ts";
import { type OtlpHttpConfig, parseOtlpHttpConfig } from "./config.ts";
import { OtlpHttpSender } from "./exporter.ts";

export type { OtlpHttpConfig } from "./config.ts";

/** Factory of the `otlp_http` exporter. */
export const otlpHttpFactory: ExporterFactory<OtlpHttpConfig> = {
  kind: "exporter",
  type: "otlp_http",
  aliases: ["otlphttp"],
  stability: "beta",
  description: "Sends logs to an OTLP/HTTP endpoint (protobuf or JSON), with a persistent queue",
  parseConfig: parseOtlpHttpConfig,
  create(settings, config) {
    return newLogsExporter(
      settings,
      { retry: config.retry, queue: config.queue },
      new OtlpHttpSender(settings, config),
    );
  },
};
