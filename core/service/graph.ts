/**
 * Builds the running graph from a validated config: one instance per receiver, exporter and
 * connector id (shared by the pipelines that name it), processors per pipeline, fan-outs
 * between them. Pipelines joined by connectors form a DAG (the config check refuses cycles);
 * it is built from its downstream end. Starts downstream first (extensions → exporters →
 * each pipeline's processors and the connectors feeding it, from the last pipeline to the
 * first → receivers) and stops in reverse, so every record a receiver or connector handed
 * on is drained before its consumers stop.
 *
 * @module
 */

import type {
  BuildInfo,
  Component,
  ComponentId,
  ConnectorFactory,
  CreateSettings,
  ExporterFactory,
  ExtensionFactory,
  Host,
  Kind,
  ProcessorFactory,
  ReceiverFactory,
} from "../component.ts";
import {
  type InstanceId,
  isPipelineWatcher,
  isStatusWatcher,
  type PipelineWatcher,
  type StatusEvent,
  statusEvent,
  type StatusWatcher,
} from "../componentstatus/mod.ts";
import { admissionCheck, type AdmissionGate, isAdmissionGate } from "../admission.ts";
import { settledWithin } from "../async.ts";
import { StatusReporter } from "../componentstatus/reporter.ts";
import { type ConsumeContext, type LogsConsumer, takesEncoded } from "../consumer.ts";
import type { Logs } from "../pdata/logs.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { MetricsRegistry } from "../telemetry/metrics.ts";
import type { CollectorConfig, ComponentConfig } from "./config.ts";
import { fanout } from "./fanout.ts";
import { observeProcessorItems } from "./observe.ts";
import { orderPipelines } from "./pipeline_order.ts";

/** A created component with what identifies it in messages. */
export interface GraphNode {
  readonly kind: Kind;
  readonly id: ComponentId;
  /** For processors: the pipeline that owns this instance. */
  readonly pipeline?: string;
  readonly component: Component;
  /** What status events about this component name as their source. */
  readonly instance: InstanceId;
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
  #statusWatchers: StatusWatcher[] = [];
  #pipelineWatchers: PipelineWatcher[] = [];
  /** Where fatal errors go once started (the collector); until then they are only logged. */
  #reportFatal: (err: Error) => void = () => {};
  readonly #status = new StatusReporter(
    (source, event) => this.#statusChanged(source, event),
    (message) => this.#options.logger.debug(`Invalid status transition: ${message}`),
  );

  /** Creates every component of `config` (nothing is started yet). */
  constructor(config: CollectorConfig, options: GraphOptions) {
    this.#options = options;
    const extensions: GraphNode[] = [];
    for (const idText of config.serviceExtensions) {
      const c = config.extensions.get(idText)!;
      const component = (c.factory as ExtensionFactory).create(this.#settings(c), c.config);
      extensions.push(node("extension", c.id, component, []));
      this.#extensions.set(idText, component);
      if (isStatusWatcher(component)) this.#statusWatchers.push(component);
      if (isPipelineWatcher(component)) this.#pipelineWatchers.push(component);
    }

    const isConnector = (id: string) => config.connectors.has(id);
    const pipelinesListing = (key: "receivers" | "exporters", id: string) =>
      config.pipelines.filter((p) => p[key].includes(id)).map((p) => p.id);
    const exporters = new Map<string, GraphNode & { component: LogsConsumer & Component }>();
    for (const p of config.pipelines) {
      for (const idText of p.exporters) {
        if (exporters.has(idText) || isConnector(idText)) continue;
        const c = config.exporters.get(idText)!;
        const component = (c.factory as ExporterFactory).create(this.#settings(c), c.config);
        exporters.set(
          idText,
          node("exporter", c.id, component, pipelinesListing("exporters", idText)),
        );
      }
    }

    // Downstream first, so each pipeline's consumers (exporters, connectors and the
    // pipelines those feed) exist before it. Start order follows build order.
    const pipelineNodes: GraphNode[] = [];
    const heads = new Map<string, LogsConsumer>();
    const gates = new Map<string, AdmissionGate[]>(); // per pipeline, for its receivers
    const connectors = new Map<string, LogsConsumer & Component>();
    const byId = new Map(config.pipelines.map((p) => [p.id, p]));
    const { order } = orderPipelines(config.pipelines, isConnector);
    if (order === undefined) {
      throw new TypeError("The pipelines form a cycle; the config check missed it");
    }
    for (const p of order.map((id) => byId.get(id)!)) {
      const tail = p.exporters.map((id) => {
        const exporter = exporters.get(id)?.component ?? connectors.get(id);
        if (exporter) return exporter;
        const built = this.#connector(config.connectors.get(id)!, heads, pipelinesListing);
        connectors.set(id, built.component);
        pipelineNodes.push(built);
        return built.component;
      });
      let next: LogsConsumer = fanout(tail);
      let mutates = tail.some((e) => e.mutatesData);
      // Batches held encoded stay so through every consumer that changes nothing or keeps them.
      let keepsEncoded = tail.every(takesEncoded);
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
        keepsEncoded &&= takesEncoded(component);
        if (isAdmissionGate(component)) gates.set(p.id, [...gates.get(p.id) ?? [], component]);
        next = observeProcessorItems(component, options.metrics, labels, "incoming");
        built.unshift({ ...node("processor", c.id, component, [p.id]), pipeline: p.id });
      }
      pipelineNodes.push(...built.reverse());
      heads.set(p.id, withCapabilities(next, mutates, mutates && keepsEncoded));
    }

    const receivers: GraphNode[] = [];
    const receiverIds = [...new Set(config.pipelines.flatMap((p) => p.receivers))]
      .filter((id) => !isConnector(id));
    for (const idText of receiverIds) {
      const c = config.receivers.get(idText)!;
      const pipelines = pipelinesListing("receivers", idText);
      const targets = pipelines.map((id) => heads.get(id)!);
      // Receivers count what they hand on themselves, through core/receiverhelper.
      const admission = admissionCheck(pipelines.flatMap((id) => gates.get(id) ?? []));
      const component = (c.factory as ReceiverFactory).create(
        admission ? { ...this.#settings(c), admission } : this.#settings(c),
        c.config,
        fanout(targets),
      );
      receivers.push(node("receiver", c.id, component, pipelines));
    }

    this.nodes.push(...extensions, ...exporters.values(), ...pipelineNodes, ...receivers);
  }

  /** Creates connector `c`, handing it the heads of the pipelines it feeds (built already). */
  #connector(
    c: ComponentConfig,
    heads: ReadonlyMap<string, LogsConsumer>,
    pipelinesListing: (key: "receivers" | "exporters", id: string) => string[],
  ): GraphNode & { component: LogsConsumer & Component } {
    const idText = c.id.toString();
    const fed = pipelinesListing("receivers", idText);
    const next = new Map(fed.map((id) => [id, heads.get(id)!]));
    const component = (c.factory as ConnectorFactory).create(this.#settings(c), c.config, next);
    const pipelines = [...new Set([...pipelinesListing("exporters", idText), ...fed])];
    return node("connector", c.id, component, pipelines);
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

  /** The host one component sees: extensions, and status reports naming it as the source. */
  #hostFor(node: GraphNode): Host {
    return {
      getExtension: (id) => this.#extensions.get(id),
      reportFatalError: (err) => {
        // A component already in a final state cannot report fatal; stop the collector anyway.
        if (!this.#status.report(node.instance, statusEvent("fatal_error", err))) {
          this.#reportFatal(err);
        }
      },
      reportStatus: (event) => this.#status.report(node.instance, event),
    };
  }

  #statusChanged(source: InstanceId, event: StatusEvent): void {
    for (const w of this.#statusWatchers) {
      try {
        w.componentStatusChanged(source, event);
      } catch (err) {
        this.#options.logger.warn("A status watcher failed", { error: err });
      }
    }
    if (event.status === "fatal_error") this.#reportFatal(event.error ?? new Error("fatal error"));
  }

  #notifyPipelineWatchers(ready: boolean): void {
    for (const w of this.#pipelineWatchers) {
      try {
        if (ready) w.ready();
        else w.notReady();
      } catch (err) {
        this.#options.logger.warn("A pipeline watcher failed", { error: err });
      }
    }
  }

  /**
   * Starts every component in order, reporting starting, then ok (unless the component
   * reported otherwise) or permanent_error; tells pipeline watchers once all are running.
   * On a failure stops those already started and throws.
   */
  async start(host: Pick<Host, "reportFatalError">): Promise<void> {
    this.#reportFatal = (err) => host.reportFatalError(err);
    for (const node of this.nodes) {
      this.#status.report(node.instance, statusEvent("starting"));
      try {
        await node.component.start(this.#hostFor(node));
      } catch (err) {
        const startErr = new StartError(node, err);
        this.#status.report(node.instance, statusEvent("permanent_error", startErr));
        this.#options.logger.error(startErr.message);
        // The failed component may hold what it opened before failing (clients, files);
        // shutdown is safe without a completed start, so release it too.
        await node.component.shutdown().catch((e) =>
          this.#options.logger.warn(
            `Shutdown of "${node.id}" ${node.kind} after its failed start failed`,
            { error: e },
          )
        );
        await this.shutdown();
        throw startErr;
      }
      this.#status.reportOkIfStarting(node.instance);
      this.#started.push(node);
    }
    this.#notifyPipelineWatchers(true);
  }

  /**
   * Tells pipeline watchers the collector is no longer ready, then stops started components
   * in reverse start order, reporting stopping and stopped (permanent_error when a shutdown
   * fails or overruns). Each stage gets at most `timeoutMs`; a component that overruns is
   * logged and left behind so the rest can still stop.
   */
  async shutdown(timeoutMs = 30_000): Promise<void> {
    this.#notifyPipelineWatchers(false);
    const nodes = this.#started.reverse();
    this.#started = [];
    for (const node of nodes) {
      this.#status.report(node.instance, statusEvent("stopping"));
      try {
        const done = node.component.shutdown();
        if (!await settledWithin(done, timeoutMs)) {
          const message =
            `Shutdown of "${node.id}" ${node.kind} did not finish within ${timeoutMs}ms; moving on`;
          this.#options.logger.error(message);
          this.#status.report(node.instance, statusEvent("permanent_error", new Error(message)));
        } else {
          await done; // rethrows its failure
          this.#status.report(node.instance, statusEvent("stopped"));
        }
      } catch (err) {
        this.#options.logger.error(`Shutdown of "${node.id}" ${node.kind} failed`, { error: err });
        const error = err instanceof Error ? err : new Error(String(err));
        this.#status.report(node.instance, statusEvent("permanent_error", error));
      }
    }
  }
}

/** A graph node with its status instance id (pipelines sorted, as upstream). */
function node<C extends Component>(
  kind: Kind,
  id: ComponentId,
  component: C,
  pipelines: readonly string[],
): GraphNode & { component: C } {
  return { kind, id, component, instance: { kind, id, pipelines: [...pipelines].sort() } };
}

/**
 * Reports `mutatesData` (and `keepsEncoded`) for the whole pipeline (upstream's capabilities
 * node).
 */
function withCapabilities(
  next: LogsConsumer,
  mutatesData: boolean,
  keepsEncoded: boolean,
): LogsConsumer {
  if (next.mutatesData === mutatesData && (next.keepsEncoded === true) === keepsEncoded) {
    return next;
  }
  return {
    mutatesData,
    keepsEncoded,
    consume: (logs: Logs, ctx: ConsumeContext) => next.consume(logs, ctx),
  };
}
