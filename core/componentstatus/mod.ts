/**
 * Component status, as upstream's `componentstatus`: components (and the graph on their
 * behalf) report status events through the host; extensions that implement
 * {@linkcode StatusWatcher} see every event, and those that implement
 * {@linkcode PipelineWatcher} learn when the whole collector is ready and when it stops
 * being ready (health_check is the first reader of both).
 *
 * @module
 */

import type { ComponentId, Extension, Host, Kind } from "../component.ts";

/** The statuses upstream defines, in its order; `none` is only the state before the first. */
export type Status =
  | "starting"
  | "ok"
  | "recoverable_error"
  | "permanent_error"
  | "fatal_error"
  | "stopping"
  | "stopped";

/** One status report: what, when (ms since the epoch) and, for error statuses, why. */
export interface StatusEvent {
  readonly status: Status;
  readonly error?: Error;
  readonly timestamp: number;
}

/** Which running instance an event is about: kind, id and the pipelines it serves. */
export interface InstanceId {
  readonly kind: Kind;
  readonly id: ComponentId;
  /** Pipeline ids (sorted); empty for extensions. */
  readonly pipelines: readonly string[];
}

/** An extension that wants every status event of every component (upstream's `Watcher`). */
export interface StatusWatcher {
  /** Called synchronously for each accepted event; may come before `start` and after `shutdown`. */
  componentStatusChanged(source: InstanceId, event: StatusEvent): void;
}

/** An extension told when every component has started and when shutdown begins. */
export interface PipelineWatcher {
  /** Every component started; the collector is about to process data. */
  ready(): void;
  /** Shutdown begins (before any component stops). */
  notReady(): void;
}

/** Builds an event stamped now. */
export function statusEvent(status: Status, error?: Error): StatusEvent {
  return error === undefined
    ? { status, timestamp: Date.now() }
    : { status, error, timestamp: Date.now() };
}

/** Reports `status` for the calling component; a host without status reporting ignores it. */
export function reportStatus(host: Host, status: Status, error?: Error): void {
  host.reportStatus?.(statusEvent(status, error));
}

/** True when `ext` implements {@linkcode StatusWatcher}. */
export function isStatusWatcher(ext: Extension): ext is Extension & StatusWatcher {
  return typeof (ext as Partial<StatusWatcher>).componentStatusChanged === "function";
}

/** True when `ext` implements {@linkcode PipelineWatcher}. */
export function isPipelineWatcher(ext: Extension): ext is Extension & PipelineWatcher {
  const w = ext as Partial<PipelineWatcher>;
  return typeof w.ready === "function" && typeof w.notReady === "function";
}

/** The text upstream uses in messages (`StatusOK`, `StatusRecoverableError`, …). */
export function statusName(status: Status | "none"): string {
  return "Status" + status.split("_").map((w) => w[0]!.toUpperCase() + w.slice(1)).join("")
    .replace("Ok", "OK");
}
