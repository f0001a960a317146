/**
 * The `routing` connector's work: decide each record's target pipelines, split the batch so
 * that no consume call mixes records of different target sets, and hand each part on.
 *
 * Decisions (table order): a `request` route that matches takes every record not taken yet; a
 * `resource` route takes the remaining records of each resource it matches; a `log` route
 * takes the remaining records it matches. With `match_once: false` every matching route gets
 * the record. What no route takes goes to `default_pipelines`, or is dropped without them.
 *
 * Every decision is made before anything is handed on, so a rejection under
 * `error_mode: propagate` reaches no pipeline (a retry duplicates nothing). The parts are
 * delivered through core's fan-out: per-part retries, and a copy only where a pipeline
 * changes data.
 *
 * @module
 */

import type { Connector, CreateSettings, PipelineConsumers } from "../../core/component.ts";
import {
  type ConsumeContext,
  consumerFunc,
  type LogsConsumer,
  PermanentError,
} from "../../core/consumer.ts";
import {
  cloneResource,
  cloneScope,
  logRecordCount,
  type Logs,
  newLogRecord,
  newResource,
  newScope,
  type ResourceLogs,
  type ScopeLogs,
} from "../../core/pdata/logs.ts";
import { fanout, type FanoutOptions } from "../../core/service/fanout.ts";
import type { Logger } from "../../core/telemetry/logger.ts";
import { type EvalContext, OttlEvalError } from "../../pkg/ottl/mod.ts";
import type { Route, RoutingConfig } from "./config.ts";

/** The target set of records that go nowhere (no route matched, no default pipelines). */
const DROP = -1;

/** Evaluation errors of one batch under `ignore`/`silent`: how many, and the first. */
interface BatchErrors {
  count: number;
  first: string;
}

/** A `routing` connector instance. */
export class RoutingConnector implements Connector {
  /** True when a pipeline it routes to changes data: a shared input must be copied for it. */
  readonly mutatesData: boolean;
  readonly #cfg: RoutingConfig;
  readonly #routes: readonly Route[];
  readonly #logger: Logger;
  readonly #next: PipelineConsumers;
  readonly #fanoutOptions: FanoutOptions;
  /** Whether parts of one resource or scope going to different pipelines need own copies. */
  readonly #copyShared: boolean;
  /** Per target set (a set of pipelines), the consumer handing a batch to all of them. */
  readonly #sets: LogsConsumer[] = [];
  readonly #setByPipelines = new Map<string, number>();
  /** Per route, its target set; with `match_once: false`, per combination of routes. */
  readonly #routeSet: readonly number[];
  readonly #comboSet = new Map<string, number>();
  readonly #defaultSet: number;
  /** True when no route reads records (only resource and request routes). */
  readonly #perResource: boolean;
  readonly #ctx: EvalContext = {
    resource: newResource(),
    scope: newScope(),
    record: newLogRecord(),
    client: undefined,
  };
  /** Per route: -1 not evaluated yet, 0 false, 1 true (request per batch, resource per resource). */
  readonly #requestMatch: Int8Array;
  readonly #resourceMatch: Int8Array;
  readonly #errors: BatchErrors = { count: 0, first: "" };

  /** Builds the connector handing records to the pipelines in `next`. */
  constructor(
    settings: CreateSettings,
    config: RoutingConfig,
    next: PipelineConsumers,
    fanoutOptions: FanoutOptions = {},
  ) {
    this.#cfg = config;
    this.#routes = config.routes;
    this.#logger = settings.logger;
    this.#next = next;
    this.#fanoutOptions = fanoutOptions;
    const named = [...config.defaultPipelines, ...config.routes.flatMap((r) => r.pipelines)];
    for (const id of named) {
      if (!next.has(id)) {
        throw new Error(
          `connectors::${settings.id}: pipeline "${id}" does not list this connector under receivers`,
        );
      }
    }
    this.mutatesData = named.some((id) => next.get(id)!.mutatesData);
    this.#copyShared = this.mutatesData && new Set(named).size > 1;
    this.#routeSet = config.routes.map((r) => this.#setOf(r.pipelines));
    this.#defaultSet = config.defaultPipelines.length > 0
      ? this.#setOf(config.defaultPipelines)
      : DROP;
    this.#perResource = config.routes.every((r) => r.context !== "log");
    this.#requestMatch = new Int8Array(config.routes.length);
    this.#resourceMatch = new Int8Array(config.routes.length);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  async consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
    const total = logRecordCount(logs);
    if (total === 0) return;
    const assigned = new Int32Array(total);
    const errors = this.#errors;
    errors.count = 0;
    const c = this.#ctx;
    c.client = ctx.client;
    let only: number | undefined;
    try {
      only = this.#decide(logs, c, assigned);
    } finally {
      c.client = undefined;
    }
    if (errors.count > 0 && this.#cfg.errorMode === "ignore") {
      this.#logger.warn("Conditions failed and were treated as not matching", {
        error: `${errors.count} error${errors.count === 1 ? "" : "s"}; first: ${errors.first}`,
      });
    }
    if (only !== undefined) {
      // The whole batch has one destination: hand it on as it is, without copying.
      if (only === DROP) return this.#dropped(total);
      return await this.#sets[only]!.consume(logs, ctx);
    }
    const parts = this.#split(logs, assigned);
    const deliveries: LogsConsumer[] = [];
    parts.forEach((part, set) => {
      const target = this.#sets[set]!;
      deliveries.push(consumerFunc((_, ctx) => target.consume(part, ctx)));
    });
    const dropped = total - parts.reduce((n, part) => n + logRecordCount(part), 0);
    if (dropped > 0) this.#dropped(dropped);
    if (deliveries.length === 0) return;
    // Each part is one branch of core's fan-out (which gets the batch but hands each branch
    // its own part): a part some pipelines accepted is not sent to them again when another
    // part is refused and retried.
    await fanout(deliveries, this.#fanoutOptions).consume(logs, ctx);
  }

  /**
   * Writes each record's target set into `assigned` (in traversal order). Returns the set
   * when every record has the same one, undefined when they differ. Throws a
   * {@linkcode PermanentError} on the first evaluation error under `propagate`.
   */
  #decide(logs: Logs, c: EvalContext, assigned: Int32Array): number | undefined {
    this.#requestMatch.fill(-1);
    const resourceMatch = this.#resourceMatch;
    const matchOnce = this.#cfg.matchOnce;
    let k = 0;
    let first = 0;
    let mixed = false;
    for (const rl of logs.resourceLogs) {
      c.resource = rl.resource;
      resourceMatch.fill(-1);
      // Without log routes, every record of a resource goes the same way: decide once.
      let ofResource: number | undefined;
      for (const sl of rl.scopeLogs) {
        c.scope = sl.scope;
        const records = sl.logRecords;
        for (let i = 0; i < records.length; i++) {
          let set = ofResource;
          if (set === undefined) {
            c.record = records[i]!;
            set = matchOnce ? this.#firstMatch(c) : this.#allMatches(c);
            if (this.#perResource) ofResource = set;
          }
          if (k === 0) first = set;
          else if (set !== first) mixed = true;
          assigned[k++] = set;
        }
      }
    }
    return mixed ? undefined : first;
  }

  #firstMatch(c: EvalContext): number {
    const routes = this.#routes;
    for (let i = 0; i < routes.length; i++) {
      if (this.#matches(i, c)) return this.#routeSet[i]!;
    }
    return this.#defaultSet;
  }

  #allMatches(c: EvalContext): number {
    let combo = "";
    const routes = this.#routes;
    for (let i = 0; i < routes.length; i++) {
      if (this.#matches(i, c)) combo += `${i},`;
    }
    if (combo === "") return this.#defaultSet;
    let set = this.#comboSet.get(combo);
    if (set === undefined) {
      const indexes = combo.slice(0, -1).split(",").map(Number);
      set = this.#setOf(indexes.flatMap((i) => routes[i]!.pipelines));
      this.#comboSet.set(combo, set);
    }
    return set;
  }

  /** Whether route `i` matches the record in `c`; request and resource results are reused. */
  #matches(i: number, c: EvalContext): boolean {
    const route = this.#routes[i]!;
    if (route.context === "log") return this.#test(route, c);
    const memo = route.context === "request" ? this.#requestMatch : this.#resourceMatch;
    if (memo[i] === -1) memo[i] = this.#test(route, c) ? 1 : 0;
    return memo[i] === 1;
  }

  #test(route: Route, c: EvalContext): boolean {
    try {
      return route.condition(c);
    } catch (err) {
      if (!(err instanceof OttlEvalError)) throw err;
      const what =
        `route #${route.index} (${route.context} context) condition '${route.text}': ${err.message}`;
      if (this.#cfg.errorMode === "propagate") {
        // The same data fails the same way when retried: the refusal is permanent.
        throw new PermanentError(`routing connector: ${what}`, { cause: err });
      }
      if (this.#errors.count++ === 0) this.#errors.first = what;
      return false;
    }
  }

  /**
   * The parts of `logs` per target set (sparse by set), resource and scope structure kept. A
   * resource or scope whose records all go one way is handed on as it is; where one is split,
   * each later part gets its own copy of the resource or scope when a pipeline may change it.
   */
  #split(logs: Logs, assigned: Int32Array): Logs[] {
    const parts: Logs[] = [];
    const copy = this.#copyShared;
    let k = 0;
    for (const rl of logs.resourceLogs) {
      const n = rl.scopeLogs.reduce((sum, sl) => sum + sl.logRecords.length, 0);
      const whole = sameSet(assigned, k, n);
      if (whole !== undefined) {
        if (whole !== DROP && n > 0) (parts[whole] ??= { resourceLogs: [] }).resourceLogs.push(rl);
        k += n;
        continue;
      }
      let resourceTaken = false;
      const rlOf: ResourceLogs[] = []; // by set
      const resourceFor = (set: number): ResourceLogs => {
        let target = rlOf[set];
        if (target === undefined) {
          const resource = resourceTaken && copy ? cloneResource(rl.resource) : rl.resource;
          resourceTaken = true;
          target = { resource, scopeLogs: [], schemaUrl: rl.schemaUrl };
          rlOf[set] = target;
          (parts[set] ??= { resourceLogs: [] }).resourceLogs.push(target);
        }
        return target;
      };
      for (const sl of rl.scopeLogs) {
        const records = sl.logRecords;
        const all = sameSet(assigned, k, records.length);
        if (all !== undefined) {
          if (all !== DROP && records.length > 0) resourceFor(all).scopeLogs.push(sl);
          k += records.length;
          continue;
        }
        let scopeTaken = false;
        const slOf: ScopeLogs[] = []; // by set
        for (const record of records) {
          const set = assigned[k++]!;
          if (set === DROP) continue;
          let target = slOf[set];
          if (target === undefined) {
            const scope = scopeTaken && copy ? cloneScope(sl.scope) : sl.scope;
            scopeTaken = true;
            target = { scope, logRecords: [], schemaUrl: sl.schemaUrl };
            slOf[set] = target;
            resourceFor(set).scopeLogs.push(target);
          }
          target.logRecords.push(record);
        }
      }
    }
    return parts;
  }

  #dropped(count: number): void {
    this.#logger.debug("Records matched no route and there are no default_pipelines: dropped", {
      dropped: count,
    });
  }

  /** The target set sending to `pipelines` (each once, in any order), created on first use. */
  #setOf(pipelines: readonly string[]): number {
    const ids = [...new Set(pipelines)].sort();
    const key = ids.join("\u0000");
    let set = this.#setByPipelines.get(key);
    if (set === undefined) {
      set = this.#sets.length;
      const consumers = ids.map((id) => this.#next.get(id)!);
      this.#sets.push(fanout(consumers, this.#fanoutOptions));
      this.#setByPipelines.set(key, set);
    }
    return set;
  }
}

/** The set of `assigned[from … from+n)` when they are all the same (DROP for none), else undefined. */
function sameSet(assigned: Int32Array, from: number, n: number): number | undefined {
  if (n === 0) return DROP;
  const set = assigned[from]!;
  for (let i = from + 1; i < from + n; i++) if (assigned[i] !== set) return undefined;
  return set;
}
