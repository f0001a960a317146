/**
 * Builds the running graph from a validated config: one instance per receiver and exporter
 * id (shared by the pipelines that name it), processors per pipeline, fan-outs between them.
 * Starts downstream first (extensions → exporters → processors → receivers) and stops in
 * reverse, so every record a receiver handed on is drained before its consumers stop.
 *
 * @module
 */

import type {
  BuildInfo,
  Component,
  ComponentId,
  CreateSettings,
  ExporterFactory,
  ExtensionFactory,
  Host,
  Kind,
  ProcessorFactory,
  ReceiverFactory,
} from "../component.ts";
import type { ConsumeContext, LogsConsumer } from "../consumer.ts";
import type { Logs } from "../pdata/logs.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { MetricsRegistry } from "../telemetry/metrics.ts";
import type { CollectorConfig, ComponentConfig } from "./config.ts";
import { fanout } from "./fanout.ts";
import { observeProcessorItems } from "./observe.ts";

/** A created component with what identifies it in messages. */
export interface GraphNode {
  readonly kind: Kind;
  readonly id: ComponentId;
  /** For processors: the pipeline that owns this instance. */
  readonly pipeline?: string;
  readonly component: Component;
}

/** Thrown when a component fails to start; names it as upstream does. */
export class StartError extends Error {
  /** Builds the error for the component `node`. */
  constructor(node: GraphNode, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`Failed to start "${node.id}" ${node.kind}: ${why}`, { cause });
    this.name = "StartError";
  }
}

/** Everything a graph needs besides the config. */
export interface GraphOptions {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly buildInfo: BuildInfo;
}

function componentLabels(kind: Kind, id: string): Record<string, string> {
  if (kind === "processor") return { processor: id, otel_signal: "logs" };
  return { [kind]: id };
}

/** The running component graph of one collector. */
export class Graph {
  /** In start order. */
  readonly nodes: GraphNode[] = [];
  #started: GraphNode[] = [];
  #extensions = new Map<string, Component>();
  #options: GraphOptions;

  /** Creates every component of `config` (nothing is started yet). */
  constructor(config: CollectorConfig, options: GraphOptions) {
    this.#options = options;
    const extensions: GraphNode[] = [];
    for (const idText of config.serviceExtensions) {
      const c = config.extensions.get(idText)!;
      const component = (c.factory as ExtensionFactory).create(this.#settings(c), c.config);
      extensions.push({ kind: "extension", id: c.id, component });
      this.#extensions.set(idText, component);
    }

    const exporters = new Map<string, GraphNode & { component: LogsConsumer & Component }>();
    for (const p of config.pipelines) {
      for (const idText of p.exporters) {
        if (exporters.has(idText)) continue;
        const c = config.exporters.get(idText)!;
        const component = (c.factory as ExporterFactory).create(this.#settings(c), c.config);
        exporters.set(idText, { kind: "exporter", id: c.id, component });
      }
    }

    // Processors are built from the end of each pipeline, so each gets its `next`.
    const processors: GraphNode[] = [];
    const heads = new Map<string, LogsConsumer>();
    for (const p of config.pipelines) {
      const tail = p.exporters.map((id) => exporters.get(id)!.component);
      let next: LogsConsumer = fanout(tail);
      let mutates = tail.some((e) => e.mutatesData);
      const built: GraphNode[] = [];
      for (const idText of [...p.processors].reverse()) {
        const c = config.processors.get(idText)!;
        const labels = componentLabels("processor", idText);
        const outgoing = observeProcessorItems(next, options.metrics, labels, "outgoing");
        const component = (c.factory as ProcessorFactory).create(
          this.#settings(c, p.id),
          c.config,
          outgoing,
        );
        mutates ||= component.mutatesData;
        next = observeProcessorItems(component, options.metrics, labels, "incoming");
        built.unshift({ kind: "processor", id: c.id, pipeline: p.id, component });
      }
      processors.push(...built.reverse());
      heads.set(p.id, withCapabilities(next, mutates));
    }

    const receivers: GraphNode[] = [];
    const receiverIds = [...new Set(config.pipelines.flatMap((p) => p.receivers))];
    for (const idText of receiverIds) {
      const c = config.receivers.get(idText)!;
      const targets = config.pipelines.filter((p) => p.receivers.includes(idText))
        .map((p) => heads.get(p.id)!);
      // Receivers count what they hand on themselves, through core/receiverhelper.
      const component = (c.factory as ReceiverFactory).create(
        this.#settings(c),
        c.config,
        fanout(targets),
      );
      receivers.push({ kind: "receiver", id: c.id, component });
    }

    this.nodes.push(...extensions, ...exporters.values(), ...processors, ...receivers);
  }

  #settings(c: ComponentConfig, pipeline?: string): CreateSettings {
    const idText = c.id.toString();
    return {
      id: c.id,
      kind: c.kind,
      logger: this.#options.logger.with({
        "otelcol.component.kind": c.kind,
        "otelcol.component.id": idText,
        ...(pipeline ? { "otelcol.pipeline.id": pipeline } : {}),
      }),
      metrics: this.#options.metrics,
      componentLabels: componentLabels(c.kind, idText),
      buildInfo: this.#options.buildInfo,
    };
  }

  /** Starts every component in order; on a failure stops those already started and throws. */
  async start(host: Omit<Host, "getExtension">): Promise<void> {
    const fullHost: Host = {
      getExtension: (id) => this.#extensions.get(id),
      reportFatalError: (err) => host.reportFatalError(err),
    };
    for (const node of this.nodes) {
      try {
        await node.component.start(fullHost);
      } catch (err) {
        const startErr = new StartError(node, err);
        this.#options.logger.error(startErr.message);
        // The failed component may hold what it opened before failing (clients, files);
        // shutdown is safe without a completed start, so release it too.
        await node.component.shutdown().catch((e) =>
          this.#options.logger.warn(
            `Shutdown of "${node.id}" ${node.kind} after its failed start failed`,
            {
              error: e,
            },
          )
        );
        await this.shutdown();
        throw startErr;
      }
      this.#started.push(node);
    }
  }

  /**
   * Stops started components in reverse start order. Each stage gets at most `timeoutMs`;
   * a component that overruns is logged and left behind so the rest can still stop.
   */
  async shutdown(timeoutMs = 30_000): Promise<void> {
    const nodes = this.#started.reverse();
    this.#started = [];
    for (const node of nodes) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      try {
        const result = await Promise.race([node.component.shutdown(), timeout]);
        if (result === "timeout") {
          this.#options.logger.error(
            `Shutdown of "${node.id}" ${node.kind} did not finish within ${timeoutMs}ms; moving on`,
          );
        }
      } catch (err) {
        this.#options.logger.error(`Shutdown of "${node.id}" ${node.kind} failed`, { error: err });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** Reports `mutatesData` for the whole pipeline (upstream's capabilities node). */
function withCapabilities(next: LogsConsumer, mutatesData: boolean): LogsConsumer {
  if (next.mutatesData === mutatesData) return next;
  return {
    mutatesData,
    consume: (logs: Logs, ctx: ConsumeContext) => next.consume(logs, ctx),
  };
}
