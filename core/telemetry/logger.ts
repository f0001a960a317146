/**
 * The collector's own logs (`service.telemetry.logs`): levelled, structured, to stderr,
 * as JSON lines or as upstream's tab-separated console format.
 *
 * @module
 */

/** Log levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Output format, as upstream's `service.telemetry.logs.encoding`. */
export type LogEncoding = "console" | "json";

/** Structured context attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Returns a logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
  /** True when lines at `level` are written (to skip building costly messages). */
  enabled(level: LogLevel): boolean;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Where log lines go; stderr by default, a collecting function in tests. */
export type LogSink = (line: string) => void;

const encoder = new TextEncoder();

/** Writes one line to stderr synchronously, so nothing is lost when the process exits. */
export function stderrSink(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** @default "info" */
  level?: LogLevel;
  /** @default "console" */
  encoding?: LogEncoding;
  /** @default stderrSink */
  sink?: LogSink;
  /** Fields on every line. */
  fields?: LogFields;
}

function formatValue(v: unknown): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === "bigint") return v.toString();
  return v;
}

/** Creates a logger writing at or above `level`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = LEVEL_RANK[options.level ?? "info"];
  const encoding = options.encoding ?? "console";
  const sink = options.sink ?? stderrSink;
  const base = options.fields ?? {};

  function write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (LEVEL_RANK[level] < min) return;
    const all: Record<string, unknown> = { ...base, ...fields };
    const ts = new Date().toISOString();
    if (encoding === "json") {
      const obj: Record<string, unknown> = { level, ts, msg };
      for (const [k, v] of Object.entries(all)) obj[k] = formatValue(v);
      sink(JSON.stringify(obj));
    } else {
      const rest = Object.keys(all).length === 0 ? "" : "\t" + JSON.stringify(
        Object.fromEntries(Object.entries(all).map(([k, v]) => [k, formatValue(v)])),
      );
      sink(`${ts}\t${level}\t${msg}${rest}`);
    }
  }

  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    with: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
    enabled: (level) => LEVEL_RANK[level] >= min,
  };
}

/** A logger that writes nothing (for tests and benchmarks). */
export function nopLogger(): Logger {
  return createLogger({ level: "error", sink: () => {} });
}
