/**
 * How data moves between components: `consume` returns a promise, and a producer does not
 * hand over more until it resolved (backpressure). A rejection says whether to retry.
 *
 * @module
 */

import type { Logs } from "./pdata/logs.ts";

/** Who sent the data, carried from the receiver to processors and exporters. */
export interface ClientInfo {
  /** The peer's IP address (without port), when the data came over the network. */
  readonly addr?: string;
  /** Request headers, keys lower-cased, when the receiver has `include_metadata: true`. */
  readonly metadata?: ReadonlyMap<string, readonly string[]>;
  /** Identity established by a server authenticator. */
  readonly auth?: Readonly<Record<string, unknown>>;
}

/** Per-call context that travels with a batch. */
export interface ConsumeContext {
  readonly client?: ClientInfo;
  /** Aborted when the collector is shutting down and the caller should give up waiting. */
  readonly signal?: AbortSignal;
}

/** Something that accepts batches of logs. */
export interface LogsConsumer {
  /**
   * Takes ownership of `logs`: the caller must not read or change it after calling.
   * Resolves once the data is accepted (delivered, or durably queued); rejects with a
   * {@linkcode PermanentError} when retrying cannot help, and any other error otherwise.
   */
  consume(logs: Logs, ctx: ConsumeContext): Promise<void>;
  /** True when this consumer changes the data it is given (fan-out then copies first). */
  readonly mutatesData: boolean;
  /**
   * True when a batch held encoded (`EncodedLogs`) stays encoded through this consumer even
   * though it changes data: it changes only what it can re-encode on its own (resources).
   */
  readonly keepsEncoded?: boolean;
}

/** What a wrapper that passes batches on unchanged reports of itself: `next`'s capabilities. */
export function capabilitiesOf(
  next: LogsConsumer,
): Pick<LogsConsumer, "mutatesData" | "keepsEncoded"> {
  return { mutatesData: next.mutatesData, keepsEncoded: next.keepsEncoded === true };
}

/**
 * Whether a producer should hand `next` batches held encoded: it changes nothing, or only in
 * ways that keep them encoded. Otherwise objects serve it better (it would decode at once).
 */
export function takesEncoded(next: LogsConsumer): boolean {
  return !next.mutatesData || next.keepsEncoded === true;
}

/** An error that retrying cannot fix (bad data, a 400 from the backend). */
export class PermanentError extends Error {
  /** Builds a permanent error; `cause` is kept for the log. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PermanentError";
  }
}

/**
 * A retryable error carrying an optional hint of how long to wait (e.g. a `Retry-After`).
 * Any error that is not a {@linkcode PermanentError} is retryable; this class adds the delay.
 */
export class RetryableError extends Error {
  /** Milliseconds the sender asked us to wait before retrying, if it said. */
  readonly retryAfterMs: number | undefined;

  /** Builds a retryable error. */
  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.name = "RetryableError";
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * A retryable refusal because a limit or quota is reached: the otlp receiver answers HTTP 429
 * / gRPC `ResourceExhausted` (plain retryable errors give 503 / `Unavailable`), as upstream
 * does for a `ResourceExhausted` status.
 */
export class ResourceExhaustedError extends RetryableError {
  /** Builds the error; `retryAfterMs` becomes the answer's `Retry-After`. */
  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.name = "ResourceExhaustedError";
  }
}

/** Returns true when `err` (or an error in its cause chain) is permanent. */
export function isPermanent(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; depth++) {
    if (e instanceof PermanentError) return true;
    if (e instanceof AggregateError) return e.errors.length > 0 && e.errors.every(isPermanent);
    e = e.cause;
  }
  return false;
}

/** Wraps a function as a consumer. */
export function consumerFunc(
  fn: (logs: Logs, ctx: ConsumeContext) => Promise<void>,
  mutatesData = false,
): LogsConsumer {
  return { consume: fn, mutatesData };
}
