/**
 * The collector's own logs shipped over OTLP/HTTP as well (upstream's
 * `service::telemetry::logs::processors`), built on the OpenTelemetry JS SDK, with the
 * `service::telemetry::resource` attached. It never loops: the SDK's own errors (a failed
 * export, a full queue) go to the local log only. It never blocks: records are queued and
 * sent in the background; when the queue is full they are dropped.
 *
 * The SDK is imported only when processors are configured (own_logs_sdk.ts): most
 * deployments never ship their own logs, and loading it costs ~20 MiB. Lines logged while it
 * loads wait in a short buffer.
 *
 * @module
 */

import type { LogFields, Logger, LogLevel } from "./logger.ts";
import type { OwnLogsProcessor } from "./own_logs_config.ts";
import type { SdkProcessor, SdkShipper } from "./own_logs_sdk.ts";

/** How long shutdown waits for queued own logs to be sent. */
const SHUTDOWN_BUDGET_MS = 2000;

/** Lines kept while the SDK loads; more are dropped, like a full SDK queue drops them. */
const STARTUP_BUFFER = 2048;

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

/** Ships log lines over OTLP next to the local log; `shutdown` flushes what is queued. */
export interface OwnLogsShipper {
  /** The local logger, teed to OTLP for lines at or above its level. */
  readonly logger: Logger;
  shutdown(): Promise<void>;
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
  const configured: SdkProcessor[] = processors.map((p, i) => {
    if (p.certificate === undefined) return { config: p, ca: undefined };
    try {
      return { config: p, ca: Deno.readTextFileSync(p.certificate) };
    } catch (err) {
      throw new Error(
        `service::telemetry::logs::processors::${i}: cannot read certificate ` +
          `"${p.certificate}": ${(err as Error).message}`,
      );
    }
  });
  let sdk: SdkShipper | undefined;
  const early: [LogLevel, string, LogFields][] = [];
  const loaded = import("./own_logs_sdk.ts").then((m) => {
    sdk = m.startSdk(local, configured, resource, scope);
    for (const [level, msg, fields] of early.splice(0)) sdk.emit(level, msg, fields);
  }).catch((err) =>
    local.error("Own logs exporter: the OpenTelemetry SDK did not load", { error: err })
  );
  const emit = (level: LogLevel, msg: string, fields: LogFields): void => {
    if (sdk) sdk.emit(level, msg, fields);
    else if (early.length < STARTUP_BUFFER) early.push([level, msg, fields]);
  };
  return {
    logger: tee(local, emit),
    shutdown: async () => {
      // Best effort: an unreachable endpoint must not hold the collector's exit.
      const timer = Promise.withResolvers<"timeout">();
      const t = setTimeout(() => timer.resolve("timeout"), SHUTDOWN_BUDGET_MS);
      try {
        const flushed = loaded.then(() => sdk?.shutdown());
        const r = await Promise.race([flushed, timer.promise]);
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
