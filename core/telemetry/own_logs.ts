/**
 * The collector's own logs shipped over OTLP/HTTP as well (upstream's
 * `service::telemetry::logs::processors`), built on the OpenTelemetry JS SDK, with the
 * `service::telemetry::resource` attached. It never loops: the SDK's own errors (a failed
 * export, a full queue) go to the local log only. It never blocks: records are queued and
 * sent in the background; when the queue is full they are dropped.
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

/** How long shutdown waits for queued own logs to be sent. */
const SHUTDOWN_BUDGET_MS = 2000;

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

/**
 * The resource of the own logs: upstream's defaults (`service.name`, `service.version`,
 * `service.instance.id`) under what `service::telemetry::resource` sets.
 */
export function telemetryResource(
  configured: Readonly<Record<string, string>>,
  build: { command: string; version: string },
): Record<string, string> {
  return {
    "service.name": build.command,
    "service.version": build.version,
    "service.instance.id": crypto.randomUUID(),
    ...configured,
  };
}

/** Ships log lines over OTLP next to the local log; `shutdown` flushes what is queued. */
export interface OwnLogsShipper {
  /** The local logger, teed to OTLP for lines at or above its level. */
  readonly logger: Logger;
  shutdown(): Promise<void>;
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

/** Wraps `local` so every line it writes is also emitted to `emit`. */
function tee(
  local: Logger,
  emit: (level: LogLevel, msg: string, fields: LogFields) => void,
  bound: LogFields = {},
): Logger {
  const at = (level: LogLevel) => (msg: string, fields?: LogFields): void => {
    local[level](msg, fields);
    if (local.enabled(level)) emit(level, msg, { ...bound, ...fields });
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    with: (fields) => tee(local.with(fields), emit, { ...bound, ...fields }),
    enabled: (level) => local.enabled(level),
  };
}

/**
 * Starts shipping `local`'s lines to the configured processors with `resource` attached.
 * Certificate files are read now, so a missing one fails building the collector with its key.
 */
export function shipOwnLogs(
  local: Logger,
  processors: readonly OwnLogsProcessor[],
  resource: Readonly<Record<string, string>>,
  scope: { name: string; version: string },
): OwnLogsShipper {
  diag.setLogger(localDiag(local), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const built: LogRecordProcessor[] = [];
  for (const [i, p] of processors.entries()) {
    let ca: string | undefined;
    if (p.certificate !== undefined) {
      try {
        ca = Deno.readTextFileSync(p.certificate);
      } catch (err) {
        throw new Error(
          `service::telemetry::logs::processors::${i}: cannot read certificate ` +
            `"${p.certificate}": ${(err as Error).message}`,
        );
      }
    }
    built.push(processorFor(p, exporterFor(p, ca)));
  }
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ ...resource }),
    processors: built,
  });
  const otel = provider.getLogger(scope.name, scope.version);
  const emit = (level: LogLevel, msg: string, fields: LogFields): void => {
    otel.emit({
      severityNumber: SEVERITY[level],
      severityText: level.toUpperCase(),
      body: msg,
      attributes: attributes(fields),
    });
  };
  return {
    logger: tee(local, emit),
    shutdown: async () => {
      // Best effort: an unreachable endpoint must not hold the collector's exit.
      const timer = Promise.withResolvers<"timeout">();
      const t = setTimeout(() => timer.resolve("timeout"), SHUTDOWN_BUDGET_MS);
      try {
        const r = await Promise.race([provider.shutdown(), timer.promise]);
        if (r === "timeout") {
          local.warn("Own logs exporter: not everything was sent at shutdown", {
            waited_ms: SHUTDOWN_BUDGET_MS,
          });
        }
      } catch (err) {
        local.warn("Own logs exporter: not everything was sent at shutdown", { error: err });
      } finally {
        clearTimeout(t);
      }
    },
  };
}
