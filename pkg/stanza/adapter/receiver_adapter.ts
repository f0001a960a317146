/**
 * The receiver adapter (stanza's `adapter`): a log receiver hands entries to the operator
 * chain; what leaves it is batched into `Logs`, handed to the next consumer (the caller
 * awaits it: backpressure), retried on retryable errors with backoff (`retry_on_failure`),
 * and only once accepted are the positions of the sources it came from acknowledged — never
 * past an entry an operator still holds. A receiver that stores acknowledged positions
 * therefore delivers at least once.
 *
 * @module
 */

import { abortableSleep, Backoff, OrderedWindow, untilAborted } from "../../../core/async.ts";
import type { CreateSettings } from "../../../core/component.ts";
import {
  isPermanent,
  type LogsConsumer,
  RetryableError,
  takesEncoded,
} from "../../../core/consumer.ts";
import { cloneLogs, type Logs } from "../../../core/pdata/logs.ts";
import { ObsReport } from "../../../core/receiverhelper/mod.ts";
import type { Entry, EntrySource } from "../entry.ts";
import { type OperatorSpec, Pipeline } from "../operator/registry.ts";
import type { LineLane } from "../raw_line.ts";
import { LogsBuilder } from "./convert.ts";

/** `retry_on_failure` (stanza's consumerretry). */
export interface RetryConfig {
  readonly enabled: boolean;
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
  /** 0 = retry forever. */
  readonly maxElapsedTimeMs: number;
}

/**
 * A source of entries (a file, a journal) whose position the adapter acknowledges. `M` is
 * the receiver's own position type; entries carry it in `src.position`.
 */
export interface AckSource<M> {
  /** The `src.sourceId` of its entries. */
  readonly id: number;
  /**
   * The position to acknowledge once what was handed on so far is accepted: after all of it,
   * or where `held` (the oldest of its entries an operator still holds) starts, if earlier.
   */
  mark(held: EntrySource | undefined): M;
  /** Everything before `mark` was accepted downstream. */
  ack(mark: M): void;
}

/** How an adapter is built. */
export interface AdapterOptions {
  readonly operators: readonly OperatorSpec[];
  readonly retry: RetryConfig;
  /** Counts an entry an operator failed on (the receiver's own metric). */
  readonly countError: (operatorId: string) => void;
  /** Shutdown began: a retry waiting for its backoff tries once more at once. */
  readonly stopping: AbortSignal;
  /** Shutdown gave up waiting: a delivery in progress is abandoned (nothing acknowledged). */
  readonly abandon: AbortSignal;
}

interface Mark {
  readonly src: AckSource<unknown>;
  readonly mark: unknown;
}

/** Batches in flight at once: enough for a downstream `batch` to fill by size. */
export const IN_FLIGHT = 4;

/** Operator chain, batching, delivery with retry and acknowledgement for one receiver. */
export class ReceiverAdapter {
  readonly #settings: CreateSettings;
  readonly #opts: AdapterOptions;
  readonly #next: LogsConsumer;
  readonly #builder: LogsBuilder;
  readonly #pipeline: Pipeline;
  /** Sources read from since the last flush. */
  readonly #touched = new Set<AckSource<unknown>>();
  /** Sources whose last mark was held back by an operator: marked again at the next flush. */
  readonly #limited = new Set<AckSource<unknown>>();
  readonly #window = new OrderedWindow(IN_FLIGHT);

  /** Builds the operator chain; `next` is counted through the receiver helper. */
  constructor(settings: CreateSettings, next: LogsConsumer, opts: AdapterOptions) {
    this.#settings = settings;
    this.#opts = opts;
    this.#next = new ObsReport(settings, "").wrap(next);
    // Records of a pipeline that changes none (or only resources, keeping batches encoded)
    // are encoded as they arrive (see LogsBuilder).
    this.#builder = new LogsBuilder(takesEncoded(next));
    this.#pipeline = new Pipeline(
      opts.operators,
      { logger: settings.logger, countError: opts.countError },
      (e) => this.#builder.add(e),
    );
  }

  /** Hands one entry to the operator chain (synchronous). */
  process(e: Entry): void {
    this.#pipeline.process(e);
  }

  /**
   * The line lane (see pkg/stanza/raw_line.ts) of this receiver's chain, when its records are
   * encoded as they arrive and its operator can take lines; else undefined.
   */
  lineLane(): LineLane | undefined {
    if (!this.#builder.encodes) return undefined;
    const builder = this.#builder;
    return this.#pipeline.lineLane((resource, record, text, start, end) =>
      builder.addWithText(resource, record, text, start, end)
    );
  }

  /** Notes that `src` handed entries on (or moved) since the last flush. */
  touch<M>(src: AckSource<M>): void {
    this.#touched.add(src as AckSource<unknown>);
  }

  /** Records batched and not yet sent. */
  get pending(): number {
    return this.#builder.count;
  }

  /** Time-based flushes of what operators hold (once per poll). */
  tick(nowMs: number): void {
    this.#pipeline.tick(nowMs);
  }

  /**
   * Sends the batch without waiting for it to be accepted: up to {@linkcode IN_FLIGHT}
   * batches are in flight (so their records share a downstream `batch`, which leaves by size
   * instead of waiting out its timeout). Once a batch and every earlier one were accepted (or
   * dropped as permanently rejected), every source it touched gets its acknowledged position
   * moved and `onAccepted` is called with its record count; after a delivery shutdown
   * abandoned, positions stay behind. Resolves once there is room for the next batch.
   */
  async flush(onAccepted?: (count: number) => void | Promise<void>): Promise<void> {
    const marks = this.#marks();
    const count = this.#builder.count;
    const accepted = count > 0 ? this.#deliver(this.#builder.take(), count) : Promise.resolve(true);
    await this.#window.add(accepted, async () => {
      for (const m of marks) m.src.ack(m.mark);
      await onAccepted?.(count);
    });
  }

  /** Waits for every batch in flight; true when all were accepted. */
  settled(): Promise<boolean> {
    return this.#window.settled();
  }

  /**
   * Shutdown of a receiver that keeps no positions: nothing would read what operators hold
   * again, so it is emitted and delivered once, without retry.
   */
  async flushHeld(): Promise<void> {
    this.#pipeline.flushAll();
    if (this.#builder.count === 0) return;
    try {
      await this.#next.consume(this.#builder.take(), {});
    } catch (err) {
      this.#settings.logger.warn("Could not deliver the last held entries at shutdown", {
        error: err,
      });
    }
  }

  /** Positions safe to acknowledge once the current batch is accepted. */
  #marks(): Mark[] {
    const marks: Mark[] = [];
    const sources = new Set([...this.#touched, ...this.#limited]);
    this.#touched.clear();
    this.#limited.clear();
    for (const src of sources) {
      const held = this.#pipeline.held(src.id);
      if (held !== undefined) this.#limited.add(src);
      marks.push({ src, mark: src.mark(held) });
    }
    return marks;
  }

  /** Delivers one batch, retrying retryable errors with backoff; false when abandoned. */
  async #deliver(logs: Logs, count: number): Promise<boolean> {
    const { retry, stopping, abandon } = this.#opts;
    const log = this.#settings.logger;
    const started = Date.now();
    const backoff = new Backoff(retry);
    let attempt = 0;
    for (;;) {
      if (abandon.aborted) return false;
      try {
        const batch = this.#next.mutatesData ? cloneLogs(logs) : logs;
        return await untilAborted(this.#next.consume(batch, { signal: abandon }), abandon);
      } catch (err) {
        if (isPermanent(err)) {
          log.error("Consumer rejected logs permanently; dropping them", {
            records: count,
            error: err,
          });
          return true;
        }
        if (
          retry.enabled && retry.maxElapsedTimeMs > 0 &&
          Date.now() - started >= retry.maxElapsedTimeMs
        ) {
          log.error("Giving up on logs after retry_on_failure::max_elapsed_time", {
            records: count,
            error: err,
          });
          return true;
        }
        const hint = err instanceof RetryableError ? err.retryAfterMs : undefined;
        const wait = backoff.next();
        const delay = Math.min(hint ?? wait, retry.maxIntervalMs);
        (attempt++ === 0 ? log.warn : log.debug)(
          "Consumer rejected logs; reading is paused and the batch will be retried",
          { records: count, retry_in_ms: delay, error: err },
        );
        // Once shutdown began, wake only when it gives up (the grace period ends).
        await abortableSleep(delay, stopping.aborted ? abandon : stopping).catch(() => {});
      }
    }
  }
}
