/**
 * An event-loop delay probe for benchmarks: a timer due every `intervalMs` records how late
 * it fired, and once a second the cumulative histogram (1 ms buckets) is written to a JSON
 * file, so a reader can take the p99 delay over any window by subtracting two snapshots.
 * Enabled by the `OTELCOL_DENO_LOOP_DELAY_FILE` environment variable (see mod.ts); off by
 * default, since the timer costs a wake-up every `intervalMs`.
 *
 * @module
 */

/** The probe file's content. */
export interface LoopDelaySnapshot {
  /** Sampling interval in milliseconds. */
  intervalMs: number;
  /** Samples taken so far. */
  samples: number;
  /** `counts[i]`: samples delayed by at least i and less than i+1 ms (the last: or more). */
  counts: number[];
  /** Largest delay seen, in milliseconds. */
  maxMs: number;
}

const BUCKETS = 5001;

/** Starts the probe writing to `path`; returns a function that stops it. */
export function startLoopDelayProbe(path: string, intervalMs = 10): () => void {
  const counts = new Uint32Array(BUCKETS);
  let samples = 0;
  let maxMs = 0;
  let expected = performance.now() + intervalMs;
  let lastWrite = performance.now();
  let timer: ReturnType<typeof setTimeout>;
  const write = (): void => {
    const snap: LoopDelaySnapshot = { intervalMs, samples, counts: [...counts], maxMs };
    try {
      Deno.writeTextFileSync(`${path}.tmp`, JSON.stringify(snap));
      Deno.renameSync(`${path}.tmp`, path);
    } catch { /* a benchmark aid: never disturb the collector */ }
  };
  const tick = (): void => {
    const now = performance.now();
    const delay = Math.max(0, now - expected);
    counts[Math.min(BUCKETS - 1, Math.floor(delay))]!++;
    samples++;
    if (delay > maxMs) maxMs = delay;
    if (now - lastWrite >= 1000) {
      write();
      lastWrite = now;
    }
    expected = now + intervalMs;
    timer = setTimeout(tick, intervalMs);
    timer.unref();
  };
  timer = setTimeout(tick, intervalMs);
  timer.unref();
  return () => {
    clearTimeout(timer);
    write();
  };
}

/** The delay (ms, bucket upper bound) below which `q` (0..1) of the samples between two snapshots fell. */
export function loopDelayQuantile(
  from: LoopDelaySnapshot | undefined,
  to: LoopDelaySnapshot,
  q: number,
): number {
  const diff = to.counts.map((c, i) => c - (from?.counts[i] ?? 0));
  const total = diff.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let seen = 0;
  for (let i = 0; i < diff.length; i++) {
    seen += diff[i]!;
    if (seen >= q * total) return i + 1;
  }
  return diff.length;
}
