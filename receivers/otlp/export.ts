/**
 * The protocol-independent half of an OTLP Export call, shared by the HTTP and gRPC sides:
 * hand the decoded logs to the pipeline, count the outcome, and classify a refusal the way
 * upstream's otlpreceiver does (retryable → HTTP 503 / gRPC `Unavailable`, resource
 * exhaustion → 429 / `ResourceExhausted`, permanent → 500 / `Internal`).
 *
 * @module
 */

import {
  type ConsumeContext,
  isPermanent,
  type LogsConsumer,
  ResourceExhaustedError,
  RetryableError,
} from "../../core/consumer.ts";
import { logRecordCount, type Logs } from "../../core/pdata/logs.ts";
import type { ObsReport } from "../../core/receiverhelper/mod.ts";

/** How one Export call ended, for the protocol side to turn into a status. */
export type ExportOutcome =
  | { kind: "ok" }
  /** Retry later: HTTP 503, gRPC `Unavailable`. */
  | { kind: "retryable"; message: string; retryAfterMs?: number }
  /** A limit is reached, retry later: HTTP 429, gRPC `ResourceExhausted`. */
  | { kind: "exhausted"; message: string; retryAfterMs?: number }
  /** Retrying cannot help: HTTP 500, gRPC `Internal` (upstream's mapping of a permanent error). */
  | { kind: "permanent"; message: string };

/**
 * Hands `logs` to `next` (counted by `obs` when given) and classifies the outcome. A request
 * without records is answered `ok` without touching the pipeline, as upstream does.
 * Never rejects.
 */
export async function exportLogs(
  next: LogsConsumer,
  logs: Logs,
  ctx: ConsumeContext,
  obs?: ObsReport,
): Promise<ExportOutcome> {
  if (logRecordCount(logs) === 0) return { kind: "ok" };
  try {
    if (obs) await obs.consume(next, logs, ctx);
    else await next.consume(logs, ctx);
    return { kind: "ok" };
  } catch (err) {
    return classifyError(err);
  }
}

/** Maps a pipeline rejection to an outcome (exported for tests and the gRPC side). */
export function classifyError(err: unknown): ExportOutcome {
  const message = err instanceof Error ? err.message : String(err);
  if (isPermanent(err)) return { kind: "permanent", message };
  let exhausted = false;
  let retryAfterMs: number | undefined;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; depth++) {
    if (e instanceof ResourceExhaustedError) exhausted = true;
    if (e instanceof RetryableError && retryAfterMs === undefined) retryAfterMs = e.retryAfterMs;
    e = e.cause;
  }
  const kind = exhausted ? "exhausted" : "retryable";
  return retryAfterMs === undefined ? { kind, message } : { kind, message, retryAfterMs };
}
