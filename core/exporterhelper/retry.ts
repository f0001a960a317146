/**
 * `retry_on_failure`: exponential backoff with jitter around one send attempt, as
 * upstream's retry sender. Permanent errors stop at once; a `RetryableError` carrying
 * `retryAfterMs` (a server's `Retry-After`) waits at least that long; `max_elapsed_time`
 * 0 retries forever; an abort (shutdown) stops the wait.
 *
 * @module
 */

import { abortableSleep, Backoff } from "../async.ts";
import { isPermanent, RetryableError } from "../consumer.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { RetryConfig } from "./config.ts";

/**
 * Thrown when `max_elapsed_time` ran out; the last send error is the cause. Retryable for
 * whoever handed the data over: they may offer it again later.
 */
export class RetriesExhaustedError extends RetryableError {
  /** Builds the error. */
  constructor(cause: unknown) {
    super(`No more retries left: ${errorMessage(cause)}`, { cause });
    this.name = "RetriesExhaustedError";
  }
}

/** Thrown when the wait before a retry was aborted (shutdown); the last error is the cause. */
export class RetryAbortedError extends RetryableError {
  /** Builds the error. */
  constructor(cause: unknown) {
    super(`Retry interrupted by shutdown: ${errorMessage(cause)}`, { cause });
    this.name = "RetryAbortedError";
  }
}

/** Clock, randomness and sleeping, replaceable in tests. */
export interface RetryDeps {
  now(): number;
  random(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const REAL_DEPS: RetryDeps = { now: Date.now, random: Math.random, sleep: abortableSleep };

/** Returns the error's message, or its text when it is not an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Options for {@linkcode sendWithRetry}. */
export interface RetryOptions {
  logger?: Logger;
  /** Aborts waiting between attempts (shutdown). The attempt itself sees it too. */
  signal?: AbortSignal;
  deps?: Partial<RetryDeps>;
}

/**
 * Calls `attempt` until it resolves, a permanent error occurs, `max_elapsed_time` would be
 * passed by the next wait, or `signal` aborts. Rejects with the permanent error itself, a
 * {@linkcode RetriesExhaustedError} or a {@linkcode RetryAbortedError}.
 */
export async function sendWithRetry(
  attempt: (signal: AbortSignal | undefined) => Promise<void>,
  cfg: RetryConfig,
  options: RetryOptions = {},
): Promise<void> {
  const deps = { ...REAL_DEPS, ...options.deps };
  const { signal, logger } = options;
  if (!cfg.enabled) return await attempt(signal);
  const backoff = new Backoff(cfg, deps.random);
  const deadline = cfg.maxElapsedTimeMs > 0 ? deps.now() + cfg.maxElapsedTimeMs : Infinity;
  for (;;) {
    let err: unknown;
    try {
      return await attempt(signal);
    } catch (e) {
      err = e;
    }
    if (isPermanent(err)) throw err;
    if (signal?.aborted) throw new RetryAbortedError(err);
    let wait = backoff.next();
    const hint = retryAfterOf(err);
    if (hint !== undefined) wait = Math.max(wait, hint);
    if (deps.now() + wait > deadline) throw new RetriesExhaustedError(err);
    logger?.info("Exporting failed. Will retry the request after interval.", {
      error: errorMessage(err),
      interval: `${(wait / 1000).toFixed(3)}s`,
    });
    try {
      await deps.sleep(wait, signal);
    } catch {
      throw new RetryAbortedError(err);
    }
  }
}

function retryAfterOf(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; depth++) {
    if (e instanceof RetryableError && e.retryAfterMs !== undefined) return e.retryAfterMs;
    e = e.cause;
  }
  return undefined;
}

/**
 * Parses an HTTP `Retry-After` value (delay-seconds or an HTTP date) into milliseconds from
 * `now`; `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its month ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone would
  // also take things like "-5" as a year.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
