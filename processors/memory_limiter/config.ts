/**
 * Config of the `memory_limiter` processor, as upstream's `memorylimiter.Config`: keys,
 * defaults and validation rules.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";

/** The processor's typed config (durations in milliseconds). */
export interface MemoryLimiterConfig {
  /** Time between two measurements; required, > 0. */
  checkIntervalMs: number;
  /** Hard limit in MiB; takes precedence over `limitPercentage`. @default 0 */
  limitMib: number;
  /** Expected growth between two checks, in MiB; 0 = 20 % of the limit. @default 0 */
  spikeLimitMib: number;
  /** Hard limit in % of the container's (cgroup) or the machine's memory. @default 0 */
  limitPercentage: number;
  /** Spike in % of the same total. @default 0 */
  spikeLimitPercentage: number;
  /** Least time between forced collections while above the soft limit. @default 10s */
  minGcIntervalWhenSoftLimitedMs: number;
  /** Least time between forced collections while above the hard limit. @default 0 */
  minGcIntervalWhenHardLimitedMs: number;
  /** Cap of the doubling back-off when collections free too little (soft); 0 = no back-off. @default 30s */
  maxGcIntervalWhenSoftLimitedMs: number;
  /** The same cap above the hard limit. @default 30s */
  maxGcIntervalWhenHardLimitedMs: number;
}

/** Upstream's defaults (`check_interval` and a limit must still be set). */
export function defaultMemoryLimiterConfig(): MemoryLimiterConfig {
  return {
    checkIntervalMs: 0,
    limitMib: 0,
    spikeLimitMib: 0,
    limitPercentage: 0,
    spikeLimitPercentage: 0,
    minGcIntervalWhenSoftLimitedMs: 10_000,
    minGcIntervalWhenHardLimitedMs: 0,
    maxGcIntervalWhenSoftLimitedMs: 30_000,
    maxGcIntervalWhenHardLimitedMs: 30_000,
  };
}

const UINT32 = { min: 0, max: 0xffff_ffff };

/** Reads the processor's section onto the defaults and validates it as upstream does. */
export function parseMemoryLimiterConfig(r: ConfigReader): MemoryLimiterConfig {
  const d = defaultMemoryLimiterConfig();
  const cfg: MemoryLimiterConfig = {
    checkIntervalMs: r.duration("check_interval", d.checkIntervalMs),
    limitMib: r.int("limit_mib", d.limitMib, UINT32),
    spikeLimitMib: r.int("spike_limit_mib", d.spikeLimitMib, UINT32),
    limitPercentage: r.int("limit_percentage", d.limitPercentage, UINT32),
    spikeLimitPercentage: r.int("spike_limit_percentage", d.spikeLimitPercentage, UINT32),
    minGcIntervalWhenSoftLimitedMs: r.duration(
      "min_gc_interval_when_soft_limited",
      d.minGcIntervalWhenSoftLimitedMs,
    ),
    minGcIntervalWhenHardLimitedMs: r.duration(
      "min_gc_interval_when_hard_limited",
      d.minGcIntervalWhenHardLimitedMs,
    ),
    maxGcIntervalWhenSoftLimitedMs: r.duration(
      "max_gc_interval_when_soft_limited",
      d.maxGcIntervalWhenSoftLimitedMs,
    ),
    maxGcIntervalWhenHardLimitedMs: r.duration(
      "max_gc_interval_when_hard_limited",
      d.maxGcIntervalWhenHardLimitedMs,
    ),
  };
  validate(r, cfg);
  return cfg;
}

function validate(r: ConfigReader, c: MemoryLimiterConfig): void {
  if (c.checkIntervalMs <= 0) {
    r.error("check_interval", `'check_interval' must be greater than zero, e.g. "1s"`);
  }
  if (c.minGcIntervalWhenSoftLimitedMs < c.minGcIntervalWhenHardLimitedMs) {
    r.error(
      "min_gc_interval_when_soft_limited",
      "'min_gc_interval_when_soft_limited' should be larger than 'min_gc_interval_when_hard_limited'",
    );
  }
  if (
    c.maxGcIntervalWhenSoftLimitedMs > 0 &&
    c.maxGcIntervalWhenSoftLimitedMs < c.minGcIntervalWhenSoftLimitedMs
  ) {
    r.error(
      "max_gc_interval_when_soft_limited",
      "'max_gc_interval_when_soft_limited' must be greater than or equal to 'min_gc_interval_when_soft_limited' (or 0 to disable)",
    );
  }
  if (
    c.maxGcIntervalWhenHardLimitedMs > 0 &&
    c.maxGcIntervalWhenHardLimitedMs < c.minGcIntervalWhenHardLimitedMs
  ) {
    r.error(
      "max_gc_interval_when_hard_limited",
      "'max_gc_interval_when_hard_limited' must be greater than or equal to 'min_gc_interval_when_hard_limited' (or 0 to disable)",
    );
  }
  if (
    c.maxGcIntervalWhenSoftLimitedMs > 0 && c.maxGcIntervalWhenHardLimitedMs > 0 &&
    c.maxGcIntervalWhenSoftLimitedMs < c.maxGcIntervalWhenHardLimitedMs
  ) {
    r.error(
      "max_gc_interval_when_soft_limited",
      "'max_gc_interval_when_soft_limited' should be larger than or equal to 'max_gc_interval_when_hard_limited' (when both are set)",
    );
  }
  if (c.limitMib === 0 && c.limitPercentage === 0) {
    r.error(
      undefined,
      "'limit_mib' or 'limit_percentage' must be greater than zero: set one, e.g. limit_percentage: 80",
    );
  }
  if (c.limitMib > 0 && c.limitMib <= c.spikeLimitMib) {
    r.error("spike_limit_mib", "'spike_limit_mib' must be smaller than 'limit_mib'");
  }
  if (c.limitPercentage > 100 || c.spikeLimitPercentage > 100) {
    r.error(
      c.limitPercentage > 100 ? "limit_percentage" : "spike_limit_percentage",
      "'limit_percentage' and 'spike_limit_percentage' must be greater than zero and less than or equal to hundred",
    );
  } else if (c.limitPercentage > 0 && c.limitPercentage <= c.spikeLimitPercentage) {
    r.error(
      "spike_limit_percentage",
      "'spike_limit_percentage' must be smaller than 'limit_percentage'",
    );
  }
}
