import assert from "node:assert/strict";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { type MemoryLimiterConfig, parseMemoryLimiterConfig } from "./config.ts";

function parse(plain: Record<string, unknown>): { cfg: MemoryLimiterConfig; errors: string[] } {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "processors::memory_limiter", issues);
  const cfg = parseMemoryLimiterConfig(r);
  r.done();
  return { cfg, errors: issues.errors.map((i) => `${i.path}: ${i.message}`) };
}

Deno.test("memory_limiter config: upstream keys and defaults", () => {
  const { cfg, errors } = parse({ check_interval: "1s", limit_mib: 4000, spike_limit_mib: 800 });
  assert.deepEqual(errors, []);
  assert.deepEqual(cfg, {
    checkIntervalMs: 1000,
    limitMib: 4000,
    spikeLimitMib: 800,
    limitPercentage: 0,
    spikeLimitPercentage: 0,
    minGcIntervalWhenSoftLimitedMs: 10_000,
    minGcIntervalWhenHardLimitedMs: 0,
    maxGcIntervalWhenSoftLimitedMs: 30_000,
    maxGcIntervalWhenHardLimitedMs: 30_000,
  });
  const pct = parse({ check_interval: "5s", limit_percentage: 80, spike_limit_percentage: 25 });
  assert.deepEqual(pct.errors, []);
  assert.equal(pct.cfg.limitPercentage, 80);
  assert.equal(pct.cfg.spikeLimitPercentage, 25);
});

Deno.test("memory_limiter config: check_interval and a limit are required", () => {
  const { errors } = parse({});
  assert.deepEqual(errors, [
    `processors::memory_limiter::check_interval: 'check_interval' must be greater than zero, e.g. "1s"`,
    "processors::memory_limiter: 'limit_mib' or 'limit_percentage' must be greater than zero: set one, e.g. limit_percentage: 80",
  ]);
});

Deno.test("memory_limiter config: spikes below limits, percentages up to 100, GC intervals consistent", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { limit_mib: 100, spike_limit_mib: 100 },
      /spike_limit_mib: 'spike_limit_mib' must be smaller than 'limit_mib'/,
    ],
    [{ limit_percentage: 101 }, /limit_percentage: .*less than or equal to hundred/],
    [
      { limit_percentage: 50, spike_limit_percentage: 120 },
      /spike_limit_percentage: .*less than or equal to hundred/,
    ],
    [
      { limit_percentage: 50, spike_limit_percentage: 50 },
      /'spike_limit_percentage' must be smaller than 'limit_percentage'/,
    ],
    [
      { limit_mib: 100, min_gc_interval_when_hard_limited: "20s" },
      /min_gc_interval_when_soft_limited: .*should be larger than 'min_gc_interval_when_hard_limited'/,
    ],
    [
      { limit_mib: 100, min_gc_interval_when_soft_limited: "40s" },
      /max_gc_interval_when_soft_limited: .*must be greater than or equal to 'min_gc_interval_when_soft_limited'/,
    ],
    [
      {
        limit_mib: 100,
        min_gc_interval_when_hard_limited: "5s",
        max_gc_interval_when_hard_limited: "1s",
      },
      /max_gc_interval_when_hard_limited: .*must be greater than or equal to 'min_gc_interval_when_hard_limited'/,
    ],
    [{
      limit_mib: 100,
      max_gc_interval_when_soft_limited: "10s",
      max_gc_interval_when_hard_limited: "20s",
    }, /should be larger than or equal to 'max_gc_interval_when_hard_limited'/],
    [{ limit_mib: 100, limt_mib: 5 }, /Unknown key "limt_mib" \(did you mean "limit_mib"\?\)/],
  ];
  for (const [plain, want] of cases) {
    const { errors } = parse({ check_interval: "1s", ...plain });
    assert.equal(errors.length, 1, `${JSON.stringify(plain)}: ${errors.join("; ")}`);
    assert.match(errors[0]!, want);
  }
  // 0 turns the back-off off, whatever the minimums.
  const off = parse({
    check_interval: "1s",
    limit_mib: 100,
    max_gc_interval_when_soft_limited: 0,
    max_gc_interval_when_hard_limited: 0,
  });
  assert.deepEqual(off.errors, []);
});
