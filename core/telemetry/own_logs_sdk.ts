/**
 * The OpenTelemetry JS SDK side of the collector's own logs: a logger provider with one
 * processor and exporter per configured `service::telemetry::logs::processors` entry. Loaded
 * only when such an entry exists (see own_logs.ts): the SDK costs ~20 MiB of memory.
 *
 * @module
 */

import { diag, type DiagLogger, DiagLogLevel, SeverityNumber } from "@opentelemetry/api";
import { OTLPLogExporter as ProtoExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPLogExporter as JsonExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import type { LogFields, Logger, LogLevel } from "./logger.ts";
import type { OwnLogsProcessor } from "./own_logs_config.ts";

const SEVERITY: Record<LogLevel, SeverityNumber> = {
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
};

type Attribute = string | number | boolean;

function attributes(fields: LogFields): Record<string, Attribute> {
  const out: Record<string, Attribute> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null) continue;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = v;
    else if (typeof v === "bigint") out[k] = v.toString();
    else if (v instanceof Error) out[k] = v.message;
    else out[k] = JSON.stringify(v) ?? String(v);
  }
  return out;
}

/** The SDK's own problems (failed exports) go to the local log, never back into OTLP. */
function localDiag(local: Logger): DiagLogger {
  const say = (level: "debug" | "info" | "warn" | "error") => (msg: string, ...args: unknown[]) => {
    const detail = args[0] as { message?: unknown } | undefined;
    const text = typeof detail?.message === "string" ? detail.message : JSON.stringify(detail);
    local[level](`Own logs exporter: ${typeof msg === "string" ? msg : JSON.stringify(msg)}`, {
      ...(args.length > 0 ? { error: text } : {}),
    });
  };

  return {
    error: say("error"),
    warn: say("warn"),
    info: say("debug"),
    debug: say("debug"),
    verbose: say("debug"),
  };
}

function exporterFor(p: OwnLogsProcessor, ca: string | undefined): LogRecordExporter {
  const options = {
    url: p.endpoint,
    headers: { ...p.headers },
    timeoutMillis: p.timeoutMs,
    compression: p.compression as never,
    ...(ca !== undefined ? { httpAgentOptions: { ca } } : {}),
  };
  return p.protocol === "http/json" ? new JsonExporter(options) : new ProtoExporter(options);
}

function processorFor(p: OwnLogsProcessor, exporter: LogRecordExporter): LogRecordProcessor {
  if (p.kind === "simple") return new SimpleLogRecordProcessor({ exporter });
  return new BatchLogRecordProcessor({
    exporter,
    scheduledDelayMillis: p.scheduleDelayMs,
    exportTimeoutMillis: p.exportTimeoutMs,
    maxQueueSize: p.maxQueueSize,
    maxExportBatchSize: p.maxExportBatchSize,
  });
}

/** A configured processor with its CA certificate's text, read when the collector was built. */
export interface SdkProcessor {
  readonly config: OwnLogsProcessor;
  readonly ca: string | undefined;
}

/** Emits records to the SDK; `shutdown` flushes and stops it. */
export interface SdkShipper {
  emit(level: LogLevel, msg: string, fields: LogFields): void;
  shutdown(): Promise<void>;
}

/** Starts the SDK's provider; its own problems go to `local`. */
export function startSdk(
  local: Logger,
  processors: readonly SdkProcessor[],
  resource: Readonly<Record<string, string>>,
  scope: { name: string; version: string },
): SdkShipper {
  diag.setLogger(localDiag(local), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ ...resource }),
    processors: processors.map((p) => processorFor(p.config, exporterFor(p.config, p.ca))),
  });
  const otel = provider.getLogger(scope.name, scope.version);
  return {
    emit: (level, msg, fields) =>
      otel.emit({
        severityNumber: SEVERITY[level],
        severityText: level.toUpperCase(),
        body: msg,
        attributes: attributes(fields),
      }),
    shutdown: () => provider.shutdown(),
  };
}
