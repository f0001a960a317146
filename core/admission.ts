/**
 * Admission before reading: what lets a receiver refuse a request before it reads the body.
 *
 * - An {@linkcode AdmissionGate} is a processor that can tell, before any data reached it,
 *   that it would refuse data now (memory_limiter above its soft limit). The service graph
 *   hands each receiver one {@linkcode AdmissionCheck} over the gates in the pipelines it
 *   feeds (`CreateSettings.admission`); components never see each other.
 * - A {@linkcode ByteBudget} bounds the bytes of request bodies being read and decoded at
 *   once: a reader takes bytes before it holds them and gives them back once decoded.
 *
 * @module
 */

import { ResourceExhaustedError } from "./consumer.ts";

/** Why new data is refused now. */
export interface AdmissionRefusal {
  readonly message: string;
  /** When to try again, if known (→ `Retry-After`, gRPC `RetryInfo`). */
  readonly retryAfterMs?: number;
}

/** A processor that can refuse data before it is read (e.g. memory_limiter). */
export interface AdmissionGate {
  /** The refusal data would get now, or undefined when it would be let through. */
  admission(): AdmissionRefusal | undefined;
}

/** What a receiver asks before reading a request: undefined = go ahead. */
export type AdmissionCheck = () => AdmissionRefusal | undefined;

/** True when `c` is an {@linkcode AdmissionGate}. */
export function isAdmissionGate(c: unknown): c is AdmissionGate {
  return typeof (c as Partial<AdmissionGate> | null)?.admission === "function";
}

/** One check over `gates` (the first refusal wins); undefined when there are none. */
export function admissionCheck(gates: readonly AdmissionGate[]): AdmissionCheck | undefined {
  if (gates.length === 0) return undefined;
  return () => {
    for (const g of gates) {
      const refusal = g.admission();
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  };
}

/** A reservation could not be granted: the request is refused (retryable). */
export class BudgetExhaustedError extends ResourceExhaustedError {
  /** Builds the error. */
  constructor(message: string) {
    super(message, { retryAfterMs: 1000 });
    this.name = "BudgetExhaustedError";
  }
}

/** What one reader (one request) holds of a {@linkcode ByteBudget}. */
export interface BudgetHolder {
  /** Bytes held now. */
  held: number;
  /** True while it waits for more. */
  waiting: boolean;
}

interface Waiter {
  holder: BudgetHolder;
  bytes: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * A limit on bytes held at once. {@linkcode ByteBudget.acquire} waits (first come, first
 * served) while the bytes would pass the limit. Waiting can end only when some holder that is
 * not itself waiting gives bytes back; when none is left, the newest waiter that holds bytes
 * is refused ({@linkcode BudgetExhaustedError}) so that the others go on: no deadlock, and the
 * bytes held never pass the limit.
 */
export class ByteBudget {
  /** The limit in bytes. */
  readonly limit: number;
  #inUse = 0;
  #peak = 0;
  #holders = new Set<BudgetHolder>();
  #waiters: Waiter[] = [];

  /** A budget of `limit` bytes (> 0). */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes held now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** The most bytes held at once so far. */
  get peak(): number {
    return this.#peak;
  }

  /** Requests waiting for bytes now. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** A new holder (one per request). */
  holder(): BudgetHolder {
    return { held: 0, waiting: false };
  }

  /**
   * Takes `bytes` for `holder`, waiting while they would pass the limit.
   *
   * @throws {BudgetExhaustedError} when `bytes` alone pass the limit, or when the wait could
   *   never end (every other holder waits as well)
   */
  acquire(holder: BudgetHolder, bytes: number): Promise<void> {
    if (bytes <= 0) return Promise.resolve();
    if (holder.held + bytes > this.limit) {
      return Promise.reject(
        new BudgetExhaustedError(
          `request needs more than the receiver's admission::request_limit_mib (${this.limit} bytes) allows`,
        ),
      );
    }
    if (this.#waiters.length === 0 && this.#inUse + bytes <= this.limit) {
      this.#take(holder, bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      holder.waiting = true;
      this.#waiters.push({ holder, bytes, resolve, reject });
      this.#wake();
    });
  }

  /** Gives back `bytes` of `holder` (all it holds when omitted). */
  release(holder: BudgetHolder, bytes = holder.held): void {
    const n = Math.min(bytes, holder.held);
    if (n <= 0) return;
    holder.held -= n;
    this.#inUse -= n;
    if (holder.held === 0) this.#holders.delete(holder);
    this.#wake();
  }

  #take(holder: BudgetHolder, bytes: number): void {
    holder.held += bytes;
    this.#inUse += bytes;
    if (this.#inUse > this.#peak) this.#peak = this.#inUse;
    this.#holders.add(holder);
  }

  /** Grants waiters in order while they fit; breaks a wait that could never end. */
  #wake(): void {
    for (;;) {
      while (this.#waiters.length > 0) {
        const w = this.#waiters[0]!;
        if (this.#inUse + w.bytes > this.limit) break;
        this.#waiters.shift();
        w.holder.waiting = false;
        this.#take(w.holder, w.bytes);
        w.resolve();
      }
      if (this.#waiters.length === 0) return;
      for (const h of this.#holders) if (!h.waiting) return; // it will give bytes back
      // Everyone holding bytes waits: refuse the newest such waiter, which frees its bytes.
      const i = this.#waiters.findLastIndex((w) => w.holder.held > 0);
      if (i < 0) return; // cannot happen: then nothing is held and the first waiter fits
      const [w] = this.#waiters.splice(i, 1);
      w!.holder.waiting = false;
      w!.reject(
        new BudgetExhaustedError(
          "too many request bytes in flight (admission::request_limit_mib); try again",
        ),
      );
      this.#inUse -= w!.holder.held;
      this.#holders.delete(w!.holder);
      w!.holder.held = 0;
    }
  }
}
