/**
 * The memory check, as upstream's `memorylimiter.MemoryLimiter`: every `check_interval` it
 * reads memory in use; at or above the soft limit (limit − spike) it refuses new data, and
 * it forces a collection when the last one is long enough ago (`min_gc_interval_when_*`),
 * doubling that wait up to `max_gc_interval_when_*` while collections free less than 5 %,
 * so a limiter under constant pressure does not spend the CPU collecting in a loop.
 *
 * @module
 */

import type { Host } from "../../core/component.ts";
import { reportStatus } from "../../core/componentstatus/mod.ts";
import type { Logger } from "../../core/telemetry/logger.ts";
import type { MemoryLimiterConfig } from "./config.ts";
import type { TotalMemory } from "./memory.ts";

const MIB = 1024 * 1024;
/** A forced collection that frees less than this share (%) of memory counts as ineffective. */
const GC_EFFECTIVENESS_THRESHOLD = 5;

/** The message of every refusal, as upstream's `ErrDataRefused`. */
export const DATA_REFUSED_MESSAGE = "data refused due to high memory usage";

/** What the limiter reads and does; injected in tests. */
export interface LimiterDeps {
  /** Bytes in use now. */
  readonly memoryInUse: () => number;
  /** Forces a full collection; undefined when the runtime offers none. */
  readonly gc: (() => void) | undefined;
  /** The total percentages refer to. */
  readonly totalMemory: () => Promise<TotalMemory>;
  /** A monotonic clock in milliseconds. */
  readonly now: () => number;
}

/** Soft and hard limit in bytes. */
export interface Limits {
  readonly hard: number;
  readonly spike: number;
}

/** Computes the limits from the config (fixed MiB first, else percentages of `total`). */
export function computeLimits(cfg: MemoryLimiterConfig, total?: number): Limits {
  const fixed = cfg.limitMib !== 0;
  const hard = fixed ? cfg.limitMib * MIB : Math.floor(cfg.limitPercentage * total! / 100);
  const spike = fixed
    ? cfg.spikeLimitMib * MIB
    : Math.floor(cfg.spikeLimitPercentage * total! / 100);
  return { hard, spike: spike === 0 ? Math.floor(hard / 5) : spike };
}

const mib = (bytes: number): number => Math.floor(bytes / MIB);

/** One memory check loop, shared by every pipeline that uses the same processor id. */
export class MemoryLimiter {
  readonly #cfg: MemoryLimiterConfig;
  readonly #logger: Logger;
  readonly #deps: LimiterDeps;
  readonly #hosts = new Set<Host>();
  #limits: Limits | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #mustRefuse = false;
  #lastCheck = 0;
  #lastGcDone: number;
  #lastInUse = 0;
  #softGcInterval = 0;
  #hardGcInterval = 0;

  /** Creates the limiter; limits are computed at the first `start`. */
  constructor(cfg: MemoryLimiterConfig, logger: Logger, deps: LimiterDeps) {
    this.#cfg = cfg;
    this.#logger = logger;
    this.#deps = deps;
    this.#lastGcDone = deps.now();
  }

  /** True while memory in use is at or above the soft limit: new data must be refused. */
  get mustRefuse(): boolean {
    return this.#mustRefuse;
  }

  /**
   * Whether to refuse data now. The check timer shares the event loop with the receivers, so
   * a burst of requests can delay it past `check_interval`; a check that is due then runs
   * here, before the data is let through (upstream's ticker runs on its own goroutine).
   */
  refuse(): boolean {
    if (
      this.#timer !== undefined &&
      this.#deps.now() - this.#lastCheck >= this.#cfg.checkIntervalMs
    ) {
      this.checkMemLimits();
    }
    return this.#mustRefuse;
  }

  /** Time between two measurements, in milliseconds. */
  get checkIntervalMs(): number {
    return this.#cfg.checkIntervalMs;
  }

  /** The limits in force (after the first start). */
  get limits(): Limits | undefined {
    return this.#limits;
  }

  /** Starts the check loop on the first call; later calls only add the host for status. */
  async start(host: Host): Promise<void> {
    this.#limits ??= await this.#computeLimits();
    this.#hosts.add(host);
    if (this.#hosts.size > 1) return;
    if (this.#deps.gc === undefined) {
      this.#logger.warn(
        "This runtime cannot force a garbage collection; the limiter only refuses data",
      );
    }
    this.#lastCheck = this.#deps.now();
    this.#timer = setInterval(() => this.checkMemLimits(), this.#cfg.checkIntervalMs);
  }

  /** Stops the check loop once the last user shut down. */
  shutdown(host: Host | undefined): Promise<void> {
    if (host !== undefined) this.#hosts.delete(host);
    if (this.#hosts.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    return Promise.resolve();
  }

  async #computeLimits(): Promise<Limits> {
    let total: TotalMemory | undefined;
    if (this.#cfg.limitMib === 0) {
      try {
        total = await this.#deps.totalMemory();
      } catch (err) {
        throw new Error(
          `failed to get total memory, use fixed memory settings (limit_mib): ${
            err instanceof Error ? err.message : err
          }`,
          { cause: err },
        );
      }
      this.#logger.info("Using percentage memory limiter", {
        total_memory_mib: mib(total.bytes),
        total_memory_source: total.source,
        limit_percentage: this.#cfg.limitPercentage,
        spike_limit_percentage: this.#cfg.spikeLimitPercentage,
      });
    }
    const limits = computeLimits(this.#cfg, total?.bytes);
    this.#logger.info("Memory limiter configured", {
      limit_mib: mib(limits.hard),
      spike_limit_mib: mib(limits.spike),
      check_interval: `${this.#cfg.checkIntervalMs}ms`,
    });
    const inUse = this.#deps.memoryInUse();
    if (inUse >= limits.hard - limits.spike) {
      this.#logger.warn(
        "The soft limit (limit minus spike) is below the memory the collector already uses: " +
          "it will refuse all data. Raise limit_mib or limit_percentage, or lower the spike limit",
        { soft_limit_mib: mib(limits.hard - limits.spike), cur_mem_mib: mib(inUse) },
      );
    }
    return limits;
  }

  /** One check (the loop's body; public for tests). */
  checkMemLimits(): void {
    const limits = this.#limits;
    if (limits === undefined) return;
    this.#lastCheck = this.#deps.now();
    let inUse = this.#deps.memoryInUse();
    this.#logger.debug("Currently used memory.", { cur_mem_mib: mib(inUse) });
    let aboveSoft = this.#checkLimitAndBackoff(inUse, false);
    if (!aboveSoft) {
      if (this.#mustRefuse) {
        this.#logger.info("Memory usage back within limits. Resuming normal operation.", {
          cur_mem_mib: mib(inUse),
        });
        this.#report("ok");
      }
      this.#mustRefuse = false;
      return;
    }
    const hard = inUse >= limits.hard;
    const gate = hard
      ? Math.max(this.#cfg.minGcIntervalWhenHardLimitedMs, this.#hardGcInterval)
      : Math.max(this.#cfg.minGcIntervalWhenSoftLimitedMs, this.#softGcInterval);
    const gc = this.#deps.gc;
    if (gc !== undefined && this.#deps.now() - this.#lastGcDone > gate) {
      const msg = `Memory usage is above ${hard ? "hard" : "soft"} limit. Forcing a GC.`;
      if (hard) this.#logger.warn(msg, { cur_mem_mib: mib(inUse) });
      else this.#logger.info(msg, { cur_mem_mib: mib(inUse) });
      gc();
      this.#lastGcDone = this.#deps.now();
      inUse = this.#deps.memoryInUse();
      this.#logger.info("Memory usage after GC.", { cur_mem_mib: mib(inUse) });
      aboveSoft = this.#checkLimitAndBackoff(inUse, true);
    }
    if (!this.#mustRefuse && aboveSoft) {
      this.#report("recoverable_error", new Error(DATA_REFUSED_MESSAGE));
      this.#logger.warn("Memory usage is above soft limit. Refusing data.", {
        cur_mem_mib: mib(inUse),
      });
    }
    if (!aboveSoft) this.#report("ok");
    this.#mustRefuse = aboveSoft;
  }

  /** Whether `inUse` is above the soft limit; adjusts the GC back-off after a collection. */
  #checkLimitAndBackoff(inUse: number, didGc: boolean): boolean {
    const limits = this.#limits!;
    const aboveSoft = inUse >= limits.hard - limits.spike;
    const effective = !aboveSoft ||
      inUse <= this.#lastInUse * (100 - GC_EFFECTIVENESS_THRESHOLD) / 100;
    this.#lastInUse = inUse;
    if (effective) {
      this.#softGcInterval = 0;
      this.#hardGcInterval = 0;
      return aboveSoft;
    }
    if (!didGc) return aboveSoft;
    const c = this.#cfg;
    this.#softGcInterval = this.#nextBackoff(
      this.#softGcInterval,
      c.minGcIntervalWhenSoftLimitedMs,
      c.maxGcIntervalWhenSoftLimitedMs,
    );
    this.#hardGcInterval = this.#nextBackoff(
      this.#hardGcInterval,
      c.minGcIntervalWhenHardLimitedMs,
      c.maxGcIntervalWhenHardLimitedMs,
    );
    this.#logger.warn(
      "Forced GC did not reclaim enough memory. Will back off GC frequency to preserve CPU for recovery.",
      {
        next_soft_gc_interval: `${this.#softGcInterval}ms`,
        next_hard_gc_interval: `${this.#hardGcInterval}ms`,
        cur_mem_mib: mib(inUse),
      },
    );
    return aboveSoft;
  }

  /** Doubles the wait between collections, from at least ~one check interval up to `max`. */
  #nextBackoff(current: number, min: number, max: number): number {
    if (max === 0) return min;
    const floor = Math.max(min, this.#cfg.checkIntervalMs * 0.95);
    return Math.min(Math.max(current, floor) * 2, Math.max(max, min));
  }

  #report(status: "ok" | "recoverable_error", error?: Error): void {
    for (const host of this.#hosts) reportStatus(host, status, error);
  }
}
