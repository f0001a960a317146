import assert from "node:assert/strict";
import { formatGoDuration } from "./go_duration.ts";

Deno.test("uptime is written as Go writes a time.Duration", () => {
  const cases: [bigint, string][] = [
    [0n, "0s"],
    [1n, "1ns"],
    [999n, "999ns"],
    [1_500n, "1.5µs"],
    [1_500_000n, "1.5ms"],
    [2_000_000n, "2ms"],
    [1_000_000_000n, "1s"],
    [1_234_567_891n, "1.234567891s"],
    [61_500_000_000n, "1m1.5s"],
    [120_000_000_000n, "2m0s"],
    [3_600_000_000_000n, "1h0m0s"],
    [93_784_000_000_000n, "26h3m4s"],
    [-1_500_000n, "-1.5ms"],
  ];
  for (const [ns, want] of cases) assert.equal(formatGoDuration(ns), want, `${ns}ns`);
});
