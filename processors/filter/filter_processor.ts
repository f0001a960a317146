/**
 * The `filter` processor. Every record is checked in place (one reused evaluation context,
 * no copies); the dropped ones are cut out, then scopes and resources left empty are
 * removed, as upstream. A batch left with nothing is not passed on. The count of dropped
 * records goes to `otelcol_processor_filter_logs.filtered`.
 *
 * `error_mode` decides what an error evaluating a condition does: `propagate` keeps the
 * record, finishes the batch and then rejects the whole batch (permanently: the same data
 * fails the same way again); `ignore` treats the condition as false and logs one warning per
 * batch; `silent` does the same without the warning.
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
  readonly #errors: BatchErrors = { count: 0, first: "" };
  readonly #drop: (ctx: EvalContext) => boolean;

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
    this.#drop = this.#dropFunction();
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  /** Builds the per-record test: any condition true, or the include/exclude blocks say skip. */
  #dropFunction(): (ctx: EvalContext) => boolean {
    const { logRecord, skip, errorMode } = this.#cfg;
    if (logRecord.length === 0) {
      if (skip === undefined) return () => false;
      return (c) => skip(c.resource, c.scope, c.record);
    }
    const errors = this.#errors;
    const note = (err: unknown, text: string): void => {
      if (!(err instanceof OttlEvalError)) throw err;
      if (errors.count++ === 0) errors.first = `condition ${JSON.stringify(text)}: ${err.message}`;
    };
    if (errorMode === "propagate") {
      // The first error ends the record's evaluation; the record is kept.
      return (c) => {
        for (const cond of logRecord) {
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
      for (const cond of logRecord) {
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
    const errors = this.#errors;
    errors.count = 0;
    const c = this.#ctx;
    c.client = ctx.client;
    let after = 0;
    try {
      after = this.#filter(logs, c);
    } finally {
      c.client = undefined;
    }
    if (before > after) this.#filtered.add(before - after, this.#labels);
    if (errors.count > 0) {
      const message = `${errors.count} error${
        errors.count === 1 ? "" : "s"
      } evaluating conditions; first: ${errors.first}`;
      if (this.#cfg.errorMode === "propagate") {
        this.#logger.error("Failed processing logs", { error: message });
        throw new PermanentError(`filter processor: ${message}`);
      }
      if (this.#cfg.errorMode === "ignore") {
        this.#logger.warn("Conditions failed and were treated as false", { error: message });
      }
    }
    if (logs.resourceLogs.length === 0) return;
    await this.#next.consume(logs, ctx);
  }

  /** Removes the records to drop and the containers left empty; returns the records kept. */
  #filter(logs: Logs, c: EvalContext): number {
    const drop = this.#drop;
    let kept = 0;
    let rw = 0;
    const rls = logs.resourceLogs;
    for (let ri = 0; ri < rls.length; ri++) {
      const rl = rls[ri]!;
      c.resource = rl.resource;
      let sw = 0;
      const sls = rl.scopeLogs;
      for (let si = 0; si < sls.length; si++) {
        const sl = sls[si]!;
        c.scope = sl.scope;
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
