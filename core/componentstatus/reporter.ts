/**
 * The collector's side of status reporting: one state machine per component instance with
 * upstream's transitions, so a component cannot go back from a permanent error to ok or
 * report anything after a fatal error. Accepted events go to one listener (the graph, which
 * hands them to watching extensions).
 *
 * @module
 */

import { type InstanceId, type Status, type StatusEvent, statusEvent, statusName } from "./mod.ts";

/** Upstream's allowed transitions; repeating ok or recoverable_error is allowed (new details). */
const TRANSITIONS: Readonly<Record<Status | "none", readonly Status[]>> = {
  none: ["starting"],
  starting: ["ok", "recoverable_error", "permanent_error", "fatal_error", "stopping"],
  ok: ["ok", "recoverable_error", "permanent_error", "fatal_error", "stopping"],
  recoverable_error: ["recoverable_error", "ok", "permanent_error", "fatal_error", "stopping"],
  permanent_error: ["stopping"],
  fatal_error: [],
  stopping: ["recoverable_error", "permanent_error", "fatal_error", "stopped"],
  stopped: [],
};

/** Receives each accepted event. */
export type StatusListener = (source: InstanceId, event: StatusEvent) => void;

/** Tracks the status of every instance and passes valid transitions on. */
export class StatusReporter {
  readonly #current = new Map<InstanceId, Status>();
  readonly #onChange: StatusListener;
  readonly #onInvalid: (message: string) => void;

  /** `onInvalid` gets a message for each refused transition (upstream logs them). */
  constructor(onChange: StatusListener, onInvalid: (message: string) => void) {
    this.#onChange = onChange;
    this.#onInvalid = onInvalid;
  }

  /** Applies `event` to `source`'s state; false (and `onInvalid`) when the transition is not allowed. */
  report(source: InstanceId, event: StatusEvent): boolean {
    const from = this.#current.get(source) ?? "none";
    if (!TRANSITIONS[from].includes(event.status)) {
      this.#onInvalid(
        `"${source.id}" ${source.kind}: cannot transition from ${statusName(from)} to ${
          statusName(event.status)
        }`,
      );
      return false;
    }
    this.#current.set(source, event.status);
    this.#onChange(source, event);
    return true;
  }

  /** Reports ok unless the component already reported something else during its start. */
  reportOkIfStarting(source: InstanceId): void {
    if (this.#current.get(source) === "starting") this.report(source, statusEvent("ok"));
  }

  /** The last accepted status of `source`, if any. */
  status(source: InstanceId): Status | undefined {
    return this.#current.get(source);
  }
}
