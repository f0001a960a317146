/**
 * The component model: ids, kinds, factories, lifecycle and the host that components see.
 * Mirrors the upstream collector's vocabulary (`component.ID`, `Factory`, `Host`).
 *
 * @module
 */

import type { AdmissionCheck } from "./admission.ts";
import type { StatusEvent } from "./componentstatus/mod.ts";
import type { Position } from "./config/node.ts";
import type { ConfigReader } from "./config/reader.ts";
import type { LogsConsumer } from "./consumer.ts";
import type { Logger } from "./telemetry/logger.ts";
import type { MetricsRegistry } from "./telemetry/metrics.ts";

/** The five kinds of component a config can declare. */
export type Kind = "receiver" | "processor" | "exporter" | "extension" | "connector";

/** Stability levels as upstream's metadata.yaml uses them. */
export type Stability =
  | "development"
  | "alpha"
  | "beta"
  | "stable"
  | "deprecated"
  | "unmaintained";

const TYPE_REGEXP = /^[a-zA-Z][0-9a-zA-Z_]{0,62}$/;
const NAME_REGEXP = /^[^\s/]{1,1024}$/;

/** A component id: `type` or `type/name`, as written in the config. */
export class ComponentId {
  /** The component type, e.g. `filelog`. */
  readonly type: string;
  /** The optional instance name after the slash; "" when absent. */
  readonly name: string;

  /** Builds an id from its parts. */
  constructor(type: string, name = "") {
    this.type = type;
    this.name = name;
  }

  /** Parses `type[/name]`; throws a `SyntaxError` saying what is wrong. */
  static parse(text: string): ComponentId {
    const slash = text.indexOf("/");
    const type = slash < 0 ? text : text.slice(0, slash);
    const name = slash < 0 ? "" : text.slice(slash + 1);
    if (!TYPE_REGEXP.test(type)) {
      throw new SyntaxError(
        `Invalid component id "${text}": the type must start with a letter and contain only letters, digits and "_"`,
      );
    }
    if (slash >= 0 && !NAME_REGEXP.test(name)) {
      throw new SyntaxError(
        `Invalid component id "${text}": the name after "/" must be non-empty and contain no spaces or "/"`,
      );
    }
    return new ComponentId(type, name);
  }

  /** The id as written in the config. */
  toString(): string {
    return this.name === "" ? this.type : `${this.type}/${this.name}`;
  }
}

/** Lifecycle shared by every component. */
export interface Component {
  /**
   * Starts the component. Returns once it is ready; background work must own its own
   * cancellation. A rejection aborts the collector's start with this component's id.
   */
  start(host: Host): Promise<void>;
  /**
   * Stops the component, flushing what it holds. Safe to call without `start` and more
   * than once.
   */
  shutdown(): Promise<void>;
}

/** A receiver produces data into the `next` consumer it was created with. */
export type Receiver = Component;

/** A processor consumes data and hands it to its `next` consumer. */
export interface Processor extends Component, LogsConsumer {}

/** An exporter consumes data and sends it out of the process. */
export interface Exporter extends Component, LogsConsumer {}

/** An extension offers a capability to other components (storage, auth, health). */
export type Extension = Component;

/**
 * A connector is the exporter at the end of some pipelines and the receiver at the start of
 * others (upstream's `connector`): it consumes what those pipelines export and hands it on.
 */
export interface Connector extends Component, LogsConsumer {}

/**
 * Where a connector hands data on: for each pipeline that lists the connector under
 * `receivers`, that pipeline's first consumer, by pipeline id (`logs/<name>`). Each consumer's
 * `mutatesData` says whether its pipeline changes data: a connector that hands the same
 * objects to several pipelines must give a mutating one its own copy (core's `fanout` does).
 */
export type PipelineConsumers = ReadonlyMap<string, LogsConsumer>;

/** A pipeline id a connector's config names, with the config key that names it. */
export interface PipelineReference {
  /** The key under the connector's config, e.g. `table::0::pipelines`. */
  readonly key: string;
  readonly pipeline: string;
  /** Where the key is written, for the error's `file:line:col`; else the connector's. */
  readonly pos?: Position;
}

/** What the collector tells a component about itself when it is created. */
export interface CreateSettings {
  /** The id from the config (with the type as written there). */
  readonly id: ComponentId;
  readonly kind: Kind;
  /** A logger already labelled with the component's kind and id. */
  readonly logger: Logger;
  /** The collector's own metrics; label series with `componentLabels`. */
  readonly metrics: MetricsRegistry;
  /** Labels that identify this component in upstream's metric names (e.g. `exporter="debug"`). */
  readonly componentLabels: Readonly<Record<string, string>>;
  /** The collector's build information (for User-Agent and the like). */
  readonly buildInfo: BuildInfo;
  /**
   * Receivers only: asks the processors of the pipelines the receiver feeds whether they would
   * refuse data now (memory_limiter), so that a request can be refused before it is read.
   */
  readonly admission?: AdmissionCheck;
}

/** Name and version of this build. */
export interface BuildInfo {
  readonly command: string;
  readonly description: string;
  readonly version: string;
}

/** What a running component can ask of the collector. */
export interface Host {
  /** Returns the started extension with this id (as written in `service.extensions`). */
  getExtension(id: string): Extension | undefined;
  /** Stops the collector with an error: for failures a component cannot recover from. */
  reportFatalError(err: Error): void;
  /**
   * Reports a change in the calling component's status (upstream's `componentstatus`);
   * use `reportStatus(host, …)` from `core/componentstatus/mod.ts`. Absent on hosts that
   * do not track status (tests).
   */
  reportStatus?(event: StatusEvent): void;
}

interface FactoryBase<K extends Kind, C> {
  readonly kind: K;
  /** The current upstream type name. */
  readonly type: string;
  /** Older upstream names that are still accepted. */
  readonly aliases?: readonly string[];
  /** Stability of the logs signal (or of the extension). */
  readonly stability: Stability;
  /** One line for `otelcol-deno components`. */
  readonly description: string;
  /**
   * Reads this component's config section onto its defaults. Problems go to the reader's
   * error list (with path and position); return the best config possible regardless.
   */
  parseConfig(r: ConfigReader): C;
}

/** Creates receivers of one type. */
export interface ReceiverFactory<C = unknown> extends FactoryBase<"receiver", C> {
  create(settings: CreateSettings, config: C, next: LogsConsumer): Receiver;
}

/** Creates processors of one type. */
export interface ProcessorFactory<C = unknown> extends FactoryBase<"processor", C> {
  create(settings: CreateSettings, config: C, next: LogsConsumer): Processor;
}

/** Creates exporters of one type. */
export interface ExporterFactory<C = unknown> extends FactoryBase<"exporter", C> {
  create(settings: CreateSettings, config: C): Exporter;
}

/** Creates extensions of one type. */
export interface ExtensionFactory<C = unknown> extends FactoryBase<"extension", C> {
  create(settings: CreateSettings, config: C): Extension;
}

/** Creates connectors of one type. */
export interface ConnectorFactory<C = unknown> extends FactoryBase<"connector", C> {
  create(settings: CreateSettings, config: C, next: PipelineConsumers): Connector;
  /**
   * The pipelines `config` routes to by name. The config check makes sure each one exists
   * and lists this connector under `receivers`, so `create` can rely on it.
   */
  pipelineReferences?(config: C): readonly PipelineReference[];
}

/** Any factory. */
export type Factory =
  // deno-lint-ignore no-explicit-any
  | ReceiverFactory<any>
  // deno-lint-ignore no-explicit-any
  | ProcessorFactory<any>
  // deno-lint-ignore no-explicit-any
  | ExporterFactory<any>
  // deno-lint-ignore no-explicit-any
  | ExtensionFactory<any>
  // deno-lint-ignore no-explicit-any
  | ConnectorFactory<any>;
