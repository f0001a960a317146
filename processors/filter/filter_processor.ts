/**
 * The `filter` processor. Every record is checked in place (one reused evaluation context,
 * no copies); the dropped ones are cut out, then scopes and resources left empty are
 * removed, as upstream. A batch left with nothing is not passed on. The count of dropped
 * records goes to `otelcol_processor_filter_logs.filtered`.
 *
 * `log_conditions` groups run one after the other over the batch; a group in the `resource`
 * context drops whole resources, one in `scope` whole scopes, one in `log` single records.
 *
 * `error_mode` (the processor's, or a group's own) decides what an error evaluating a
 * condition does: `propagate` keeps the item, finishes the batch and then rejects the whole
 * batch (permanently: the same data fails the same way again); `ignore` treats the condition
 * as false and logs one warning per batch; `silent` does the same without the warning.
 *
 * @module
 */

import type { CreateSettings, Processor } from "../../core/component.ts";
import type { ConsumeContext, LogsConsumer } from "../../core/consumer.ts";
import { PermanentError } from "../../core/consumer.ts";
import {
  logRecordCount,
  type Logs,
  newLogRecord,
  newResource,
  newScope,
} from "../../core/pdata/logs.ts";
import type { Logger } from "../../core/telemetry/logger.ts";
import type { Counter, Labels } from "../../core/telemetry/metrics.ts";
import type { ConditionContext, ConfiguredCondition, ErrorMode } from "../../pkg/ottl/mod.ts";
import type { EvalContext } from "../../pkg/ottl/mod.ts";
import { OttlEvalError } from "../../pkg/ottl/mod.ts";
import type { FilterConfig } from "./config.ts";

/** Upstream's metric name (an OpenTelemetry name with a dot). */
export const FILTERED_METRIC = "otelcol_processor_filter_logs.filtered";

/** Errors met in one batch: how many, and the first one for the message. */
interface BatchErrors {
  count: number;
  first: string;
}

/** One pass over the batch: drops the items of `level` for which `drop` is true. */
interface Pass {
  readonly level: ConditionContext;
  readonly drop: (ctx: EvalContext) => boolean;
}

/** A `filter` processor instance. */
export class FilterProcessor implements Processor {
  readonly mutatesData = true;
  readonly #cfg: FilterConfig;
  readonly #next: LogsConsumer;
  readonly #logger: Logger;
  readonly #filtered: Counter;
  readonly #labels: Labels;
  readonly #ctx: EvalContext = {
    resource: newResource(),
    scope: newScope(),
    record: newLogRecord(),
    client: undefined,
  };
  /** Errors under `propagate` (they fail the batch) and under `ignore` (logged). */
  readonly #errors: Record<"propagate" | "ignore", BatchErrors> = {
    propagate: { count: 0, first: "" },
    ignore: { count: 0, first: "" },
  };
  readonly #passes: readonly Pass[];

  /** Builds the processor in front of `next`. */
  constructor(settings: CreateSettings, config: FilterConfig, next: LogsConsumer) {
    this.#cfg = config;
    this.#next = next;
    this.#logger = settings.logger;
    this.#filtered = settings.metrics.counter(
      FILTERED_METRIC,
      "Number of logs dropped by the filter processor",
    );
    this.#labels = { ...settings.componentLabels, filter: settings.id.toString() };
    this.#filtered.add(0, this.#labels);
    this.#passes = this.#buildPasses();
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  /** The passes over a batch: the include/exclude blocks, `logs::log_record` or `log_conditions`. */
  #buildPasses(): Pass[] {
    const { logRecord, logConditions, skip, errorMode } = this.#cfg;
    if (logRecord.length > 0) {
      return [{ level: "log", drop: this.#anyTrue(logRecord, errorMode) }];
    }
    if (logConditions.length > 0) {
      return logConditions.map((g) => ({
        level: g.context,
        drop: this.#anyTrue(g.conditions, g.errorMode),
      }));
    }
    if (skip === undefined) return [];
    return [{ level: "log", drop: (c) => skip(c.resource, c.scope, c.record) }];
  }

  /** True when any condition is true; evaluation errors are counted as `mode` says. */
  #anyTrue(
    conditions: readonly ConfiguredCondition[],
    mode: ErrorMode,
  ): (ctx: EvalContext) => boolean {
    const errors = mode === "propagate" ? this.#errors.propagate : this.#errors.ignore;
    const note = (err: unknown, text: string): void => {
      if (!(err instanceof OttlEvalError)) throw err;
      if (mode === "silent") return;
      if (errors.count++ === 0) errors.first = `condition ${JSON.stringify(text)}: ${err.message}`;
    };
    if (mode === "propagate") {
      // The first error ends the item's evaluation; the item is kept.
      return (c) => {
        for (const cond of conditions) {
          try {
            if (cond.eval(c)) return true;
          } catch (err) {
            note(err, cond.text);
            return false;
          }
        }
        return false;
      };
    }
    return (c) => {
      for (const cond of conditions) {
        try {
          if (cond.eval(c)) return true;
        } catch (err) {
          note(err, cond.text); // this condition counts as false; the next ones still run
        }
      }
      return false;
    };
  }

  async consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
    const before = logRecordCount(logs);
    const { propagate, ignore } = this.#errors;
    propagate.count = ignore.count = 0;
    const c = this.#ctx;
    c.client = ctx.client;
    let after = before;
    try {
      for (const pass of this.#passes) after = this.#filter(logs, c, pass);
    } finally {
      c.client = undefined;
    }
    if (before > after) this.#filtered.add(before - after, this.#labels);
    if (ignore.count > 0) {
      this.#logger.warn("Conditions failed and were treated as false", {
        error: describeErrors(ignore),
      });
    }
    if (propagate.count > 0) {
      const message = describeErrors(propagate);
      this.#logger.error("Failed processing logs", { error: message });
      throw new PermanentError(`filter processor: ${message}`);
    }
    if (logs.resourceLogs.length === 0) return;
    await this.#next.consume(logs, ctx);
  }

  /**
   * Removes the items `pass` drops (resources, scopes or records) and the containers left
   * empty; returns the records kept.
   */
  #filter(logs: Logs, c: EvalContext, pass: Pass): number {
    const { drop, level } = pass;
    let kept = 0;
    let rw = 0;
    const rls = logs.resourceLogs;
    for (let ri = 0; ri < rls.length; ri++) {
      const rl = rls[ri]!;
      c.resource = rl.resource;
      if (level === "resource") {
        if (drop(c)) continue;
        rls[rw++] = rl;
        for (const sl of rl.scopeLogs) kept += sl.logRecords.length;
        continue;
      }
      let sw = 0;
      const sls = rl.scopeLogs;
      for (let si = 0; si < sls.length; si++) {
        const sl = sls[si]!;
        c.scope = sl.scope;
        if (level === "scope") {
          if (drop(c)) continue;
          sls[sw++] = sl;
          kept += sl.logRecords.length;
          continue;
        }
        const records = sl.logRecords;
        let w = 0;
        for (let i = 0; i < records.length; i++) {
          const record = records[i]!;
          c.record = record;
          if (!drop(c)) records[w++] = record;
        }
        records.length = w;
        kept += w;
        if (w > 0) sls[sw++] = sl;
      }
      sls.length = sw;
      if (sw > 0) rls[rw++] = rl;
    }
    rls.length = rw;
    return kept;
  }
}

function describeErrors(errors: BatchErrors): string {
  return `${errors.count} error${
    errors.count === 1 ? "" : "s"
  } evaluating conditions; first: ${errors.first}`;
}
