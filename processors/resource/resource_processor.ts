/**
 * The `resource` processor: runs its actions on the attributes of every resource, in place.
 * It changes only resources, so a batch held encoded keeps its records' bytes.
 *
 * @module
 */

import type { Processor } from "../../core/component.ts";
import type { ConsumeContext, LogsConsumer } from "../../core/consumer.ts";
import { forEachResource } from "../../core/pdata/encoded_logs.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { applyActions } from "../../pkg/attraction/apply.ts";
import type { ResourceConfig } from "./config.ts";

/** A `resource` processor instance. */
export class ResourceProcessor implements Processor {
  readonly mutatesData = true;
  /** Only resources change: a batch held encoded stays so (`EncodedLogs.editResources`). */
  readonly keepsEncoded = true;
  readonly #cfg: ResourceConfig;
  readonly #next: LogsConsumer;

  /** Builds the processor in front of `next`. */
  constructor(config: ResourceConfig, next: LogsConsumer) {
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
    forEachResource(logs, (r) => applyActions(this.#cfg.attributes, r.attributes, ctx.client));
    return this.#next.consume(logs, ctx);
  }
}
