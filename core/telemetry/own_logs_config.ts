/**
 * Upstream's `service::telemetry::resource` and `service::telemetry::logs::processors` (the
 * OpenTelemetry configuration schema's log record processors): where the collector ships its
 * own logs over OTLP, and the resource that describes this collector instance.
 *
 * @module
 */

import type { ConfigReader } from "../config/reader.ts";

/** One own-logs processor with its OTLP/HTTP exporter. */
export interface OwnLogsProcessor {
  /** `batch` queues and sends in the background; `simple` sends each record at once. */
  readonly kind: "batch" | "simple";
  readonly protocol: "http/protobuf" | "http/json";
  /** The full URL, signal path included (e.g. `http://gateway:4318/v1/logs`). */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A CA file to trust for an https endpoint. */
  readonly certificate: string | undefined;
  readonly compression: "gzip" | "none";
  readonly timeoutMs: number;
  /** Batch only (the schema's defaults). */
  readonly scheduleDelayMs: number;
  readonly exportTimeoutMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
}

/** `service::telemetry::resource`: attribute name to value. */
export function readTelemetryResource(telemetry: ConfigReader): Record<string, string> {
  return telemetry.stringMap("resource");
}

function readExporter(
  p: ConfigReader,
):
  | Pick<
    OwnLogsProcessor,
    "protocol" | "endpoint" | "headers" | "certificate" | "compression" | "timeoutMs"
  >
  | undefined {
  const exporter = p.section("exporter");
  const kinds = exporter.keys();
  if (kinds.length !== 1 || (kinds[0] !== "otlp" && kinds[0] !== "otlp_http")) {
    exporter.known(...kinds);
    p.error(
      "exporter",
      'Set exactly one exporter: "otlp" (or "otlp_http"), e.g. ' +
        "{otlp: {protocol: http/protobuf, endpoint: http://gateway:4318/v1/logs}}",
    );
    return undefined;
  }
  const o = exporter.section(kinds[0]!);
  const protocol = o.enum(
    "protocol",
    ["http/protobuf", "http/json", "grpc"] as const,
    "http/protobuf",
  );
  if (protocol === "grpc") {
    o.error("protocol", 'Only "http/protobuf" and "http/json" are supported for the own logs');
  }
  const endpoint = o.string("endpoint", "http://localhost:4318/v1/logs");
  try {
    new URL(endpoint);
  } catch {
    o.error("endpoint", `Invalid URL "${endpoint}": use e.g. http://gateway:4318/v1/logs`);
  }
  const headers: Record<string, string> = {};
  for (const h of o.list("headers")) {
    const name = h.string("name", "");
    if (name === "") h.error("name", "A header needs a name");
    else headers[name] = h.string("value", "");
  }
  const certificate = o.optionalString("certificate") ?? o.optionalString("certificate_file");
  const compression = o.enum("compression", ["gzip", "none"] as const, "none");
  const timeoutMs = o.int("timeout", 10_000, { min: 0 });
  return {
    protocol: protocol === "http/json" ? "http/json" : "http/protobuf",
    endpoint,
    headers,
    certificate,
    compression,
    timeoutMs,
  };
}

/** `service::telemetry::logs::processors`: a list of `{batch: …}` or `{simple: …}`. */
export function readOwnLogsProcessors(logs: ConfigReader): OwnLogsProcessor[] {
  const out: OwnLogsProcessor[] = [];
  for (const item of logs.list("processors")) {
    const kinds = item.keys();
    if (kinds.length !== 1 || (kinds[0] !== "batch" && kinds[0] !== "simple")) {
      item.known(...kinds);
      item.error(undefined, 'Each processor is one of "batch" or "simple"');
      continue;
    }
    const kind = kinds[0] as "batch" | "simple";
    const p = item.section(kind);
    const exporter = readExporter(p);
    const batch = {
      scheduleDelayMs: kind === "batch" ? p.int("schedule_delay", 1000, { min: 0 }) : 0,
      exportTimeoutMs: kind === "batch" ? p.int("export_timeout", 30_000, { min: 0 }) : 30_000,
      maxQueueSize: kind === "batch" ? p.int("max_queue_size", 2048, { min: 1 }) : 2048,
      maxExportBatchSize: kind === "batch" ? p.int("max_export_batch_size", 512, { min: 1 }) : 512,
    };
    if (batch.maxExportBatchSize > batch.maxQueueSize) {
      p.error("max_export_batch_size", "Must not exceed max_queue_size");
    }
    if (exporter !== undefined) out.push({ kind, ...exporter, ...batch });
  }
  return out;
}
