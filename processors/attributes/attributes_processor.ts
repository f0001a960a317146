/**
 * The `attributes` processor: runs its actions on the attributes of every log record the
 * include/exclude blocks let through, in place.
 *
 * @module
 */

import type { Processor } from "../../core/component.ts";
import type { ConsumeContext, LogsConsumer } from "../../core/consumer.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { applyActions } from "../../pkg/attraction/apply.ts";
import type { AttributesConfig } from "./config.ts";

/** An `attributes` processor instance. */
export class AttributesProcessor implements Processor {
  readonly mutatesData = true;
  readonly #cfg: AttributesConfig;
  readonly #next: LogsConsumer;

  /** Builds the processor in front of `next`. */
  constructor(config: AttributesConfig, next: LogsConsumer) {
    this.#cfg = config;
    this.#next = next;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
    const { actions, skip } = this.#cfg;
    for (const rl of logs.resourceLogs) {
      for (const sl of rl.scopeLogs) {
        for (const record of sl.logRecords) {
          if (skip !== undefined && skip(rl.resource, sl.scope, record)) continue;
          applyActions(actions, record.attributes, ctx.client);
        }
      }
    }
    return this.#next.consume(logs, ctx);
  }
}
