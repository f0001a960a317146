/**
 * Go's `time.Duration.String` format (`1h2m3.5s`, `1.5ms`, `0s`), which upstream's health
 * check writes as `uptime`.
 *
 * @module
 */

function withFraction(value: bigint, unit: bigint, digits: number): string {
  const whole = value / unit;
  const frac = (value % unit).toString().padStart(digits, "0").replace(/0+$/, "");
  return frac === "" ? whole.toString() : `${whole}.${frac}`;
}

/** Formats `ns` nanoseconds as Go prints a `time.Duration`. */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return "0s";
  const sign = ns < 0n ? "-" : "";
  const d = ns < 0n ? -ns : ns;
  if (d < 1_000n) return `${sign}${d}ns`;
  if (d < 1_000_000n) return `${sign}${withFraction(d, 1_000n, 3)}µs`;
  if (d < 1_000_000_000n) return `${sign}${withFraction(d, 1_000_000n, 6)}ms`;
  const h = d / 3_600_000_000_000n;
  const m = d % 3_600_000_000_000n / 60_000_000_000n;
  const s = withFraction(d % 60_000_000_000n, 1_000_000_000n, 9);
  if (h > 0n) return `${sign}${h}h${m}m${s}s`;
  if (m > 0n) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}
