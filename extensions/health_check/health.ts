/**
 * The collector's health as the extension sees it: ready once every component started
 * (until shutdown begins), and the last status each component reported.
 *
 * @module
 */

import type { InstanceId, Status, StatusEvent } from "../../core/componentstatus/mod.ts";

/** Tracks readiness and component status; healthy only when ready and everything is ok. */
export class HealthState {
  readonly #statuses = new Map<InstanceId, Status>();
  #readySince: number | undefined;

  /** Records the latest status of `source`. */
  componentStatusChanged(source: InstanceId, event: StatusEvent): void {
    this.#statuses.set(source, event.status);
  }

  /** Every component started. */
  ready(now: number): void {
    this.#readySince = now;
  }

  /** Shutdown began. */
  notReady(): void {
    this.#readySince = undefined;
  }

  /** When the collector became ready (epoch ms) while it is healthy; undefined otherwise. */
  healthySince(): number | undefined {
    if (this.#readySince === undefined) return undefined;
    for (const status of this.#statuses.values()) if (status !== "ok") return undefined;
    return this.#readySince;
  }
}
