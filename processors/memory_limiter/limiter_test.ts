import assert from "node:assert/strict";
import type { Host } from "../../core/component.ts";
import type { StatusEvent } from "../../core/componentstatus/mod.ts";
import { createLogger, nopLogger } from "../../core/telemetry/logger.ts";
import { defaultMemoryLimiterConfig, type MemoryLimiterConfig } from "./config.ts";
import { computeLimits, MemoryLimiter } from "./limiter.ts";

const MIB = 1024 * 1024;

/** A limiter over a fake memory figure, GC and clock; `gcFrees` is what a forced GC releases. */
function fakeLimiter(over: Partial<MemoryLimiterConfig>, gcFrees = 0) {
  const cfg = { ...defaultMemoryLimiterConfig(), checkIntervalMs: 1000, ...over };
  const state = { inUse: 0, now: 0, gcAt: [] as number[], statuses: [] as string[] };
  const limiter = new MemoryLimiter(cfg, nopLogger(), {
    memoryInUse: () => state.inUse,
    gc: () => {
      state.gcAt.push(state.now);
      state.inUse -= gcFrees;
    },
    totalMemory: () => Promise.resolve({ bytes: 1000 * MIB, source: "test" }),
    now: () => state.now,
  });
  const host: Host = {
    getExtension: () => undefined,
    reportFatalError: () => {},
    reportStatus: (e: StatusEvent) => void state.statuses.push(e.status),
  };
  /** Advances the clock by one check interval and runs the check. */
  const tick = (inUse?: number) => {
    if (inUse !== undefined) state.inUse = inUse;
    state.now += cfg.checkIntervalMs;
    limiter.checkMemLimits();
  };
  return { limiter, state, host, tick };
}

Deno.test("memory_limiter: limits from MiB or percentages; spike defaults to 20 % of the limit", () => {
  const d = defaultMemoryLimiterConfig();
  assert.deepEqual(computeLimits({ ...d, limitMib: 100 }), { hard: 100 * MIB, spike: 20 * MIB });
  assert.deepEqual(computeLimits({ ...d, limitMib: 100, spikeLimitMib: 30 }), {
    hard: 100 * MIB,
    spike: 30 * MIB,
  });
  assert.deepEqual(computeLimits({ ...d, limitPercentage: 50 }, 1000 * MIB), {
    hard: 500 * MIB,
    spike: 100 * MIB,
  });
  assert.deepEqual(computeLimits({ ...d, limitPercentage: 80, spikeLimitPercentage: 10 }, 1000), {
    hard: 800,
    spike: 100,
  });
});

Deno.test("memory_limiter: refuses at the soft limit, reports recoverable_error, resumes below it", async () => {
  const { limiter, state, host, tick } = fakeLimiter({ limitMib: 100, spikeLimitMib: 20 });
  await limiter.start(host);
  try {
    tick(79 * MIB);
    assert.equal(limiter.mustRefuse, false);
    tick(80 * MIB); // soft limit = 100 - 20
    assert.equal(limiter.mustRefuse, true);
    tick(90 * MIB);
    assert.equal(limiter.mustRefuse, true);
    tick(50 * MIB);
    assert.equal(limiter.mustRefuse, false);
    assert.deepEqual(state.statuses, ["recoverable_error", "ok"]);
  } finally {
    await limiter.shutdown(host);
  }
});

Deno.test("memory_limiter: a check that is overdue (timer delayed by a busy event loop) runs before data is let through", async () => {
  const { limiter, state, host } = fakeLimiter({ limitMib: 100 });
  await limiter.start(host);
  try {
    state.inUse = 90 * MIB;
    state.now += 999;
    assert.equal(limiter.refuse(), false, "not due yet: the last result stands");
    state.now += 1;
    assert.equal(limiter.refuse(), true, "due: checked now");
    state.inUse = 10 * MIB;
    assert.equal(limiter.refuse(), true, "just checked: not again until the next interval");
  } finally {
    await limiter.shutdown(host);
  }
});

Deno.test("memory_limiter: limits from a percentage of the total are computed at start", async () => {
  const { limiter, host, tick } = fakeLimiter({ limitPercentage: 50, spikeLimitPercentage: 10 });
  await limiter.start(host);
  try {
    assert.deepEqual(limiter.limits, { hard: 500 * MIB, spike: 100 * MIB });
    tick(399 * MIB);
    assert.equal(limiter.mustRefuse, false);
    tick(400 * MIB);
    assert.equal(limiter.mustRefuse, true);
  } finally {
    await limiter.shutdown(host);
  }
});

Deno.test("memory_limiter: an effective forced GC above the hard limit lets data through again", async () => {
  const { limiter, state, host, tick } = fakeLimiter({ limitMib: 100 }, 60 * MIB);
  await limiter.start(host);
  try {
    tick(110 * MIB);
    assert.deepEqual(state.gcAt, [1000]);
    assert.equal(limiter.mustRefuse, false, "50 MiB after the GC is below the soft limit");
    assert.deepEqual(state.statuses, ["ok"]);
  } finally {
    await limiter.shutdown(host);
  }
});

Deno.test("memory_limiter: above the soft limit it collects at most every min_gc_interval_when_soft_limited", async () => {
  const { limiter, state, host, tick } = fakeLimiter({ limitMib: 100 }, 0);
  await limiter.start(host);
  try {
    for (let i = 0; i < 40; i++) tick(85 * MIB);
    // The first GC waits 10 s from the start; then the wait doubles from 10 s (20 s) up to
    // the 30 s cap while collections free nothing.
    assert.deepEqual(state.gcAt, [11000, 32000]);
    assert.equal(limiter.mustRefuse, true);
  } finally {
    await limiter.shutdown(host);
  }
});

Deno.test("memory_limiter: under constant pressure above the hard limit, forced GCs back off exponentially", async () => {
  const { limiter, state, host, tick } = fakeLimiter({ limitMib: 100 }, 0);
  await limiter.start(host);
  try {
    for (let i = 0; i < 100; i++) tick(150 * MIB);
    // min_gc_interval_when_hard_limited is 0, so without back-off this would be 100 GCs.
    assert.deepEqual(state.gcAt, [1000, 3000, 7000, 15000, 31000, 62000, 93000]);
    assert.equal(limiter.mustRefuse, true);
    assert.deepEqual(state.statuses, ["recoverable_error"]);
    // Memory falls by itself: the back-off resets, the next pressure collects at once.
    tick(10 * MIB);
    tick(150 * MIB);
    assert.equal(state.gcAt.at(-1), 102000);
  } finally {
    await limiter.shutdown(host);
  }
});

Deno.test("memory_limiter: with max_gc_interval_when_hard_limited 0 there is no back-off", async () => {
  const { limiter, state, host, tick } = fakeLimiter(
    { limitMib: 100, minGcIntervalWhenHardLimitedMs: 2500, maxGcIntervalWhenHardLimitedMs: 0 },
    0,
  );
  await limiter.start(host);
  try {
    for (let i = 0; i < 10; i++) tick(150 * MIB);
    assert.deepEqual(state.gcAt, [3000, 6000, 9000]);
  } finally {
    await limiter.shutdown(host);
  }
});

Deno.test("memory_limiter: without a way to force GC it still refuses", async () => {
  const cfg = { ...defaultMemoryLimiterConfig(), checkIntervalMs: 1000, limitMib: 100 };
  let inUse = 150 * MIB;
  const limiter = new MemoryLimiter(cfg, nopLogger(), {
    memoryInUse: () => inUse,
    gc: undefined,
    totalMemory: () => Promise.reject(new Error("unused")),
    now: () => 0,
  });
  const host: Host = { getExtension: () => undefined, reportFatalError: () => {} };
  await limiter.start(host);
  limiter.checkMemLimits();
  assert.equal(limiter.mustRefuse, true);
  inUse = 0;
  limiter.checkMemLimits();
  assert.equal(limiter.mustRefuse, false);
  await limiter.shutdown(host);
});

Deno.test("memory_limiter: a total that cannot be read fails the start with what to do", async () => {
  const cfg = { ...defaultMemoryLimiterConfig(), checkIntervalMs: 1000, limitPercentage: 80 };
  const limiter = new MemoryLimiter(cfg, nopLogger(), {
    memoryInUse: () => 0,
    gc: undefined,
    totalMemory: () => Promise.reject(new Error("EACCES /proc/self/mountinfo")),
    now: () => 0,
  });
  const host: Host = { getExtension: () => undefined, reportFatalError: () => {} };
  await assert.rejects(
    limiter.start(host),
    /failed to get total memory, use fixed memory settings \(limit_mib\): EACCES/,
  );
});

Deno.test("memory_limiter: a soft limit below what the collector already uses is a warning at start", async () => {
  const lines: string[] = [];
  const cfg = { ...defaultMemoryLimiterConfig(), checkIntervalMs: 1000, limitMib: 64 };
  const limiter = new MemoryLimiter(cfg, createLogger({ sink: (l) => lines.push(l) }), {
    memoryInUse: () => 60 * MIB,
    gc: undefined,
    totalMemory: () => Promise.reject(new Error("unused")),
    now: () => 0,
  });
  const host: Host = { getExtension: () => undefined, reportFatalError: () => {} };
  await limiter.start(host);
  await limiter.shutdown(host);
  const warning = lines.find((l) => l.includes("will refuse all data"));
  assert.ok(warning, lines.join("\n"));
  assert.match(warning, /"soft_limit_mib":51,"cur_mem_mib":60/);
});
