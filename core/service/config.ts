/**
 * Reads the whole collector config (receivers, processors, exporters, extensions,
 * connectors, service) into typed form, collecting every problem with its path and position.
 *
 * @module
 */

import { ComponentId, type Factory, type Kind } from "../component.ts";
import type { ConfigNode, Position } from "../config/node.ts";
import { type ConfigIssues, ConfigReader, suggest } from "../config/reader.ts";
import type { LogEncoding, LogLevel } from "../telemetry/logger.ts";
import {
  type OwnLogsProcessor,
  readOwnLogsProcessors,
  readTelemetryResource,
} from "../telemetry/own_logs_config.ts";
import { KNOWN_UNSUPPORTED, type Registry } from "../registry.ts";
import { checkConnectors } from "./connectors_config.ts";

/** One configured component instance. */
export interface ComponentConfig {
  readonly id: ComponentId;
  readonly kind: Kind;
  readonly factory: Factory;
  readonly config: unknown;
  readonly pos?: Position;
}

/** One `service::pipelines` entry. */
export interface PipelineConfig {
  /** `logs` or `logs/<name>`. */
  readonly id: string;
  /** Receiver and connector ids. */
  readonly receivers: readonly string[];
  readonly processors: readonly string[];
  /** Exporter and connector ids. */
  readonly exporters: readonly string[];
}

/** `service::telemetry`. */
export interface TelemetryConfig {
  readonly logs: {
    readonly level: LogLevel;
    readonly encoding: LogEncoding;
    readonly output: "stderr" | "stdout";
    readonly initialFields: Readonly<Record<string, string>>;
    /** Own logs shipped over OTLP as well (upstream's `logs::processors`). */
    readonly processors: readonly OwnLogsProcessor[];
  };
  /** Attributes describing this collector instance (`service::telemetry::resource`). */
  readonly resource: Readonly<Record<string, string>>;
  readonly metrics: {
    readonly level: "none" | "basic" | "normal" | "detailed";
    /** `host:port` to serve Prometheus text on; undefined when level is none. */
    readonly address: string | undefined;
  };
}

/** The collector's whole configuration after validation. */
export interface CollectorConfig {
  readonly receivers: ReadonlyMap<string, ComponentConfig>;
  readonly processors: ReadonlyMap<string, ComponentConfig>;
  readonly exporters: ReadonlyMap<string, ComponentConfig>;
  readonly extensions: ReadonlyMap<string, ComponentConfig>;
  readonly connectors: ReadonlyMap<string, ComponentConfig>;
  readonly pipelines: readonly PipelineConfig[];
  /** Extensions to start, in the order of `service::extensions`. */
  readonly serviceExtensions: readonly string[];
  readonly telemetry: TelemetryConfig;
}

const SECTIONS: Record<string, Kind> = {
  receivers: "receiver",
  processors: "processor",
  exporters: "exporter",
  extensions: "extension",
  connectors: "connector",
};

/** Default address of the own-metrics endpoint, as upstream. */
export const DEFAULT_METRICS_ADDRESS = "localhost:8888";

function readComponents(
  root: ConfigReader,
  section: string,
  kind: Kind,
  registry: Registry,
  declared: Set<string>,
): Map<string, ComponentConfig> {
  const out = new Map<string, ComponentConfig>();
  const r = root.section(section);
  for (const idText of r.keys()) {
    const path = r.childPath(idText);
    const pos = r.keyPosOf(idText);
    declared.add(idText);
    let id: ComponentId;
    try {
      id = ComponentId.parse(idText);
    } catch (err) {
      r.known(idText);
      r.issues.error(path, (err as Error).message, pos);
      continue;
    }
    const factory = registry.get(kind, id.type);
    if (factory === undefined) {
      r.known(idText);
      const valid = registry.names(kind);
      const upstream = KNOWN_UNSUPPORTED[id.type];
      const hint = suggest(id.type, valid);
      r.issues.error(
        path,
        `Unknown ${kind} type "${id.type}"${
          upstream
            ? ` (upstream has it; here it is ${upstream})`
            : hint
            ? ` (did you mean "${hint}"?)`
            : ""
        }; valid types: ${valid.join(", ") || "none"}`,
        pos,
      );
      continue;
    }
    if (factory.type !== id.type) {
      r.issues.warn(
        path,
        `"${id.type}" is a deprecated alias of "${factory.type}"; both work, prefer "${factory.type}"`,
        pos,
      );
    }
    const cr = r.section(idText);
    const config = factory.parseConfig(cr);
    cr.done();
    out.set(idText, { id, kind, factory, config, pos });
  }
  return out;
}

function readPipelines(
  service: ConfigReader,
  declared: Record<Kind, ReadonlySet<string>>,
): PipelineConfig[] {
  const r = service.section("pipelines");
  const out: PipelineConfig[] = [];
  if (r.keys().length === 0) {
    service.error("pipelines", "At least one pipeline is required: add service::pipelines::logs");
  }
  for (const id of r.keys()) {
    const type = id.split("/")[0]!;
    if (type !== "logs") {
      r.known(id);
      r.issues.error(
        r.childPath(id),
        type === "traces" || type === "metrics" || type === "profiles"
          ? `${type} pipelines are not supported: otelcol-deno handles logs only (remove it or run it in another collector)`
          : `Unknown pipeline type "${type}": pipelines are named "logs" or "logs/<name>"`,
        r.posOf(id),
      );
      continue;
    }
    const p = r.section(id);
    const lists = {} as Record<"receiver" | "processor" | "exporter", string[]>;
    for (const kind of ["receiver", "processor", "exporter"] as const) {
      const key = `${kind}s`;
      const ids = p.stringList(key);
      const seen = new Set<string>();
      // A connector is the exporter of one pipeline and the receiver of another.
      const connectable = kind !== "processor";
      for (const ref of ids) {
        if (!declared[kind].has(ref) && !(connectable && declared.connector.has(ref))) {
          p.error(
            key,
            `References ${kind} "${ref}" which is not configured under "${key}"${
              connectable ? ' or "connectors"' : ""
            }`,
          );
        }
        if (seen.has(ref)) p.error(key, `References ${kind} "${ref}" more than once`);
        seen.add(ref);
      }
      lists[kind] = ids;
    }
    if (lists.receiver.length === 0) p.error("receivers", "A pipeline needs at least one receiver");
    if (lists.exporter.length === 0) p.error("exporters", "A pipeline needs at least one exporter");
    out.push({
      id,
      receivers: lists.receiver,
      processors: lists.processor,
      exporters: lists.exporter,
    });
  }
  return out;
}

function readTelemetry(service: ConfigReader): TelemetryConfig {
  const t = service.section("telemetry");
  const logs = t.section("logs");
  const level = logs.enum("level", ["debug", "info", "warn", "error"] as const, "info");
  const encoding = logs.enum("encoding", ["console", "json"] as const, "console");
  const outputs = logs.stringList("output_paths", ["stderr"]);
  const output = outputs[0] === "stdout" ? "stdout" : "stderr";
  if (outputs.length !== 1 || (outputs[0] !== "stderr" && outputs[0] !== "stdout")) {
    logs.error("output_paths", 'Only ["stderr"] or ["stdout"] is supported');
  }
  const initialFields = logs.stringMap("initial_fields");
  const processors = readOwnLogsProcessors(logs);
  const resource = readTelemetryResource(t);

  const m = t.section("metrics");
  const metricsLevel = m.enum("level", ["none", "basic", "normal", "detailed"] as const, "normal");
  let address: string | undefined = m.optionalString("address");
  const readers = m.list("readers");
  for (const reader of readers) {
    const prom = reader.section("pull").section("exporter").section("prometheus");
    const host = prom.string("host", "localhost");
    const port = prom.int("port", 8888, { min: 0, max: 65535 });
    if (address !== undefined) {
      m.error("readers", 'Use either "address" or one prometheus pull reader, not both');
    }
    address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  }
  if (readers.length > 1) m.error("readers", "Only one prometheus pull reader is supported");
  address ??= DEFAULT_METRICS_ADDRESS;
  return {
    logs: { level, encoding, output, initialFields, processors },
    resource,
    metrics: { level: metricsLevel, address: metricsLevel === "none" ? undefined : address },
  };
}

/** Reads and validates a whole collector config tree. Problems go to `issues`. */
export function parseCollectorConfig(
  root: ConfigNode | undefined,
  registry: Registry,
  issues: ConfigIssues,
): CollectorConfig {
  const r = new ConfigReader(root, "", issues);
  if (root === undefined) issues.error("", "The configuration is empty");
  // Ids written in each section, valid or not: a pipeline naming a component whose own
  // config is broken should not also be told the component is missing.
  const components = {} as Record<Kind, Map<string, ComponentConfig>>;
  const declared = {} as Record<Kind, Set<string>>;
  for (const [section, kind] of Object.entries(SECTIONS)) {
    declared[kind] = new Set();
    components[kind] = readComponents(r, section, kind, registry, declared[kind]);
  }
  const service = r.section("service");
  const serviceExtensions = service.stringList("extensions");
  const seenExtensions = new Set<string>();
  for (const ext of serviceExtensions) {
    if (seenExtensions.has(ext)) {
      service.error("extensions", `References extension "${ext}" more than once`);
    }
    seenExtensions.add(ext);
    if (!declared.extension.has(ext)) {
      service.error(
        "extensions",
        `References extension "${ext}" which is not configured under "extensions"`,
      );
    }
  }
  const pipelines = readPipelines(service, declared);
  const telemetry = readTelemetry(service);
  r.done();
  checkConnectors(components.connector, pipelines, declared, issues);

  const used = new Set<string>();
  for (const p of pipelines) {
    for (const x of p.receivers) used.add(`receiver:${x}`);
    for (const x of p.processors) used.add(`processor:${x}`);
    for (const x of p.exporters) used.add(`exporter:${x}`);
  }
  for (const x of serviceExtensions) used.add(`extension:${x}`);
  for (const [section, kind] of Object.entries(SECTIONS)) {
    if (kind === "connector") continue; // checkConnectors tells apart each way of not using one
    for (const [id, c] of components[kind]) {
      if (!used.has(`${kind}:${id}`)) {
        issues.warn(
          `${section}::${id}`,
          kind === "extension"
            ? `Extension "${id}" is defined but not listed in service::extensions, so it will not start`
            : `${kind[0]!.toUpperCase()}${
              kind.slice(1)
            } "${id}" is defined but not used in any pipeline`,
          c.pos,
        );
      }
    }
  }
  return {
    receivers: components.receiver,
    processors: components.processor,
    exporters: components.exporter,
    extensions: components.extension,
    connectors: components.connector,
    pipelines,
    serviceExtensions,
    telemetry,
  };
}
