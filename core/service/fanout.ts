/**
 * Fan-out: one batch to several consumers. Consumers that change data get their own deep
 * copy, so branches never see each other's changes; read-only consumers share the original.
 *
 * Retries are per branch. When some branches accepted a batch and others refused it with a
 * retryable error, the fan-out itself retries only the refusing branches (with backoff, and
 * at least a `Retry-After` hint) until they accept, refuse permanently, `ctx.signal` aborts
 * or {@linkcode FANOUT_RETRY_MS} passed. So a receiver that retries a refused batch never
 * sends it again to a healthy branch because another one is down. When every branch
 * refused, the refusal goes straight back (nothing was delivered, so the receiver's own
 * retry duplicates nothing). A receiver still sees the error when the fan-out gives up; its
 * retry then reaches every branch again (at-least-once). To decouple branches for long
 * outages, give each exporter a persistent `sending_queue`: it accepts as soon as the batch
 * is on disk.
 *
 * @module
 */

import { abortableSleep, Backoff } from "../async.ts";
import {
  type ConsumeContext,
  isPermanent,
  type LogsConsumer,
  RetryableError,
} from "../consumer.ts";
import { cloneLogs, type Logs } from "../pdata/logs.ts";

/** How long a fan-out keeps retrying refusing branches after others accepted. */
export const FANOUT_RETRY_MS = 5 * 60_000;

/** Waits between retries of refusing branches. */
const BACKOFF = { initialIntervalMs: 200, maxIntervalMs: 5_000, randomizationFactor: 0.2 };

/** Options of {@linkcode fanout}, for tests. */
export interface FanoutOptions {
  retryMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Returns one consumer that hands each batch to all `consumers` and waits for every one. */
export function fanout(
  consumers: readonly LogsConsumer[],
  options: FanoutOptions = {},
): LogsConsumer {
  if (consumers.length === 1) return consumers[0]!;
  const mutatesData = consumers.some((c) => c.mutatesData);
  const retryMs = options.retryMs ?? FANOUT_RETRY_MS;
  const sleep = options.sleep ?? abortableSleep;
  return {
    mutatesData: false,
    async consume(logs: Logs, ctx: ConsumeContext): Promise<void> {
      // Copies are made before any consumer runs, so none can see another's changes.
      const inputs = consumers.map((c) => (mutatesData && c.mutatesData ? cloneLogs(logs) : logs));
      let pending = consumers.map((_, i) => i);
      const permanent: unknown[] = [];
      const deadline = Date.now() + retryMs;
      let backoff: Backoff | undefined;
      for (;;) {
        const results = await Promise.allSettled(
          pending.map((i) => consumers[i]!.consume(inputs[i]!, ctx)),
        );
        const retry: number[] = [];
        const retryErrors: unknown[] = [];
        results.forEach((r, k) => {
          if (r.status === "fulfilled") return;
          if (isPermanent(r.reason)) permanent.push(r.reason);
          else {
            retry.push(pending[k]!);
            retryErrors.push(r.reason);
          }
        });
        const nobodyAccepted = retry.length === consumers.length;
        if (retry.length === 0 || nobodyAccepted || ctx.signal?.aborted) {
          const errors = [...permanent, ...retryErrors];
          if (errors.length === 0) return;
          if (errors.length === 1) throw errors[0];
          // Permanent only when no branch may succeed on a retry.
          throw retryErrors.length > 0
            ? new RetryableError(joined(errors), { cause: retryErrors[0] })
            : new AggregateError(errors, joined(errors));
        }
        backoff ??= new Backoff(BACKOFF);
        const hint = Math.max(0, ...retryErrors.map(retryAfterOf));
        const wait = Math.max(backoff.next(), hint);
        if (Date.now() + wait > deadline) {
          throw new RetryableError(`Gave up retrying part of a fan-out: ${joined(retryErrors)}`, {
            cause: retryErrors[0],
          });
        }
        try {
          await sleep(wait, ctx.signal);
        } catch {
          throw retryErrors[0];
        }
        pending = retry;
      }
    },
  };
}

function joined(errors: unknown[]): string {
  return errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ");
}

function retryAfterOf(err: unknown): number {
  return err instanceof RetryableError ? err.retryAfterMs ?? 0 : 0;
}
