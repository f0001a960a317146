/**
 * Kubelet-style CRI log lines (`<RFC3339Nano> <stream> <P|F> <message>`) from a seeded PRNG,
 * shared by the agent benchmark and the demo's log generator. Every record's message starts
 * with `id=<n> `, n counting up from the writer's first id, so a sink can count each line.
 *
 * @module
 */

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = ["/api/v1/items", "/api/v1/orders", "/healthz", "/api/v2/users", "/metrics"];
const MSGS = ["request served", "cache miss", "upstream call finished", "slow query", "retrying"];
const LEVELS = ["info", "info", "info", "debug", "warn", "error"];

/** Options of {@linkcode CriWriter}. */
export interface CriWriterOptions {
  /** Stamp lines with the wall clock instead of a synthetic clock from 2026-12-04T09:00Z. */
  wallClock?: boolean;
  /** Share of records written as `P`/`P`/`F` pieces (default 0.01). */
  partialShare?: number;
}

/** Generates kubelet-style CRI lines; every message starts with `id=<n> `. */
export class CriWriter {
  #next: number;
  #random: () => number;
  #ns = Date.parse("2026-12-04T09:00:00Z") * 1e6;
  #wallClock: boolean;
  #partialShare: number;
  /** Physical lines (pieces) and logical records produced. */
  lines = 0;
  records = 0;

  constructor(seed: number, firstId: number, options: CriWriterOptions = {}) {
    this.#random = rng(seed);
    this.#next = firstId;
    this.#wallClock = options.wallClock ?? false;
    this.#partialShare = options.partialShare ?? 0.01;
  }

  #hex(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(this.#random() * 16).toString(16);
    return s;
  }

  #stamp(): string {
    const step = 1000 + Math.floor(this.#random() * 100_000);
    this.#ns = this.#wallClock ? Math.max(this.#ns + step, Date.now() * 1e6) : this.#ns + step;
    const ms = Math.floor(this.#ns / 1e6);
    const iso = new Date(ms).toISOString().slice(0, 19);
    const frac = String(this.#ns % 1e9).padStart(9, "0");
    return `${iso}.${frac}Z`;
  }

  /** About `n` physical lines of text, by default ~2 % of them `P`/`F` pieces of long messages. */
  text(n: number): string {
    const r = this.#random;
    const out: string[] = [];
    const end = this.lines + n;
    while (this.lines < end) {
      const id = this.#next++;
      this.records++;
      const stream = r() < 0.8 ? "stdout" : "stderr";
      const msg = `id=${id} level=${LEVELS[Math.floor(r() * LEVELS.length)]} caller=handler.go:${
        Math.floor(r() * 400)
      } msg="${MSGS[Math.floor(r() * MSGS.length)]}" method=GET path=${
        PATHS[Math.floor(r() * PATHS.length)]
      }/${Math.floor(r() * 100000)} status=200 duration_ms=${(r() * 100).toFixed(1)} trace_id=${
        this.#hex(32)
      }`;
      if (r() < this.#partialShare) {
        // A long message the runtime split: two P pieces and the F end.
        const long = msg + " payload=" + this.#hex(200);
        const a = Math.floor(long.length / 3);
        out.push(`${this.#stamp()} ${stream} P ${long.slice(0, a)}`);
        out.push(`${this.#stamp()} ${stream} P ${long.slice(a, 2 * a)}`);
        out.push(`${this.#stamp()} ${stream} F ${long.slice(2 * a)}`);
        this.lines += 3;
      } else {
        out.push(`${this.#stamp()} ${stream} F ${msg}`);
        this.lines++;
      }
    }
    return out.join("\n") + "\n";
  }
}
