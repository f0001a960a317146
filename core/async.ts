/**
 * Small promise helpers every component shares: a sleep that an abort ends early, a race of a
 * promise against a timeout, a wait that gives up when a signal aborts, and the exponential
 * backoff used by every retry loop (exporterhelper's `retry_on_failure`, filelog's
 * `retry_on_failure`), a window of deliveries acknowledged in order, and the turns a long
 * stretch of work gives the event loop.
 *
 * @module
 */

/** Sleeps `ms`, waking early (with a rejection carrying the reason) when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Waits for `p` at most `ms`: resolves true when `p` settled in time (whatever its outcome;
 * a rejection is not reported), false when the time ran out. The timer never outlives the call.
 */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([p.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves true when `p` resolves, false when `signal` aborts first; rejects as `p` does. */
export function untilAborted(p: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      },
      (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** Settings of a {@linkcode Backoff}; durations in milliseconds. */
export interface BackoffConfig {
  initialIntervalMs: number;
  maxIntervalMs: number;
  /** Growth per step. @default 1.5 */
  multiplier?: number;
  /** Jitter: each wait is `interval * (1 ± factor)`. @default 0 */
  randomizationFactor?: number;
}

/**
 * The successive waits of one retry sequence: `initialIntervalMs` grown by `multiplier` up
 * to `maxIntervalMs`, each randomised by `± randomizationFactor`.
 */
export class Backoff {
  #interval: number;
  readonly #initial: number;
  readonly #max: number;
  readonly #multiplier: number;
  readonly #factor: number;
  readonly #random: () => number;

  /** Starts a backoff sequence. */
  constructor(cfg: BackoffConfig, random: () => number = Math.random) {
    this.#initial = cfg.initialIntervalMs;
    this.#interval = cfg.initialIntervalMs;
    this.#max = cfg.maxIntervalMs;
    this.#multiplier = cfg.multiplier ?? 1.5;
    this.#factor = cfg.randomizationFactor ?? 0;
    this.#random = random;
  }

  /** The next wait in milliseconds. */
  next(): number {
    const base = this.#interval;
    const delta = this.#factor * base;
    const wait = delta === 0 ? base : base - delta + this.#random() * (2 * delta);
    this.#interval = Math.min(base * this.#multiplier, this.#max);
    return Math.max(0, wait);
  }

  /** Starts over at the initial interval (after a success). */
  reset(): void {
    this.#interval = this.#initial;
  }
}

/**
 * Keeps up to `limit` deliveries in flight and applies their outcomes in the order they were
 * started. A receiver hands chunk after chunk to its consumer without waiting for each
 * (records of several chunks then share one `batch`, which leaves by size instead of waiting
 * out its timeout), and advances its checkpoint for a chunk only once that chunk and every
 * earlier one were accepted.
 */
export class OrderedWindow {
  readonly #limit: number;
  #tail: Promise<boolean> = Promise.resolve(true);
  #inFlight = 0;
  #waiters: Array<() => void> = [];

  /** A window of `limit` (at least 1) deliveries. */
  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Deliveries started and not yet finished. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Adds a started delivery: `accepted` resolves true once the data was accepted, false when
   * it was abandoned (shutdown); a rejection counts as abandoned. `commit` runs after it was
   * accepted and every earlier commit ran; after an abandoned delivery no later commit runs.
   * Resolves once fewer than `limit` deliveries are in flight.
   */
  async add(accepted: Promise<boolean>, commit: () => void | Promise<void>): Promise<void> {
    const before = this.#tail;
    const outcome = accepted.then((v) => v, () => false);
    this.#inFlight++;
    this.#tail = (async () => {
      let ok = false;
      try {
        ok = (await before) && (await outcome);
        if (ok) await commit();
      } catch {
        ok = false;
      } finally {
        this.#inFlight--;
        for (const w of this.#waiters.splice(0)) w();
      }
      return ok;
    })();
    while (this.#inFlight >= this.#limit) await new Promise<void>((r) => this.#waiters.push(r));
  }

  /** Waits for every delivery added so far; true when all were accepted and committed. */
  settled(): Promise<boolean> {
    return this.#tail;
  }
}

/**
 * Keeps a long stretch of synchronous work (reading a backlog, decoding a large body) from
 * holding the event loop: `pause()` yields a turn of the loop (timers and I/O run) once `ms`
 * passed since the last one, and returns at once otherwise.
 */
export class LoopTurns {
  readonly #ms: number;
  #last = performance.now();

  /** Turns at least every `ms` of work. */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Yields to the event loop if the work ran `ms` since the last turn. */
  async pause(): Promise<void> {
    if (performance.now() - this.#last < this.#ms) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#last = performance.now();
  }
}
