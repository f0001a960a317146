/**
 * Renders logs as text the way upstream's debug exporter does: one line per record for
 * `normal`, a full field-by-field dump for `detailed`.
 *
 * @module
 */

import type { AnyValue, KeyValue, Logs } from "../../core/pdata/logs.ts";

const SEVERITY_NAMES = ["Trace", "Debug", "Info", "Warn", "Error", "Fatal"];

/** Upstream's name of a severity number, e.g. 9 → "Info", 10 → "Info2". */
export function severityName(n: number): string {
  if (n < 1 || n > 24 || !Number.isInteger(n)) return n === 0 ? "Unspecified" : String(n);
  const base = SEVERITY_NAMES[Math.floor((n - 1) / 4)]!;
  const step = (n - 1) % 4;
  return step === 0 ? base : `${base}${step + 1}`;
}

/** Formats nanoseconds since the epoch like Go's `time.Time.String()` in UTC. */
export function formatTimestamp(nanos: bigint): string {
  const ms = nanos / 1_000_000n;
  const fraction = nanos % 1_000_000_000n;
  const d = new Date(Number(ms));
  const pad = (v: number) => String(v).padStart(2, "0");
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const frac = fraction === 0n ? "" : "." + String(fraction).padStart(9, "0").replace(/0+$/, "");
  return `${base}${frac} +0000 UTC`;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** The value as plain JSON-able data (maps with keys sorted, as Go's encoder writes them). */
function toRaw(v: AnyValue): unknown {
  switch (v.kind) {
    case "string":
    case "bool":
    case "double":
      return v.value;
    case "int":
      // JSON has no int64: values beyond 2^53 are printed as their exact decimal text.
      return Number.isSafeInteger(Number(v.value)) ? Number(v.value) : v.value.toString();
    case "bytes": {
      let binary = "";
      for (const b of v.value) binary += String.fromCharCode(b);
      return btoa(binary);
    }
    case "array":
      return v.value.map(toRaw);
    case "kvlist":
      return Object.fromEntries(
        [...v.value].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
          .map((kv) => [kv.key, toRaw(kv.value)]),
      );
    case "empty":
      return null;
  }
}

/** The value as the body/attribute text of `normal` verbosity. */
function plainText(v: AnyValue | undefined): string {
  if (v === undefined || v.kind === "empty") return "";
  if (v.kind === "string") return v.value;
  if (v.kind === "bytes") return String(toRaw(v));
  return typeof toRaw(v) === "object" ? JSON.stringify(toRaw(v)) : String(toRaw(v));
}

/** The value as `Kind(value)` for `detailed` verbosity. */
export function typedText(v: AnyValue | undefined): string {
  if (v === undefined || v.kind === "empty") return "Empty()";
  switch (v.kind) {
    case "string":
      return `Str(${v.value})`;
    case "bool":
      return `Bool(${v.value})`;
    case "int":
      return `Int(${v.value})`;
    case "double":
      return `Double(${v.value})`;
    case "bytes":
      return `Bytes(${toRaw(v)})`;
    case "array":
      return `Slice(${JSON.stringify(toRaw(v))})`;
    case "kvlist":
      return `Map(${JSON.stringify(toRaw(v))})`;
  }
}

function attributeLines(title: string, attributes: readonly KeyValue[], out: string[]): void {
  if (attributes.length === 0) return;
  out.push(`${title}:`);
  for (const kv of attributes) out.push(`     -> ${kv.key}: ${typedText(kv.value)}`);
}

/** `normal` verbosity: one line per record, `body key=value …`. */
export function normalText(logs: Logs): string {
  let out = "";
  for (const rl of logs.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        const attrs = r.attributes.map((kv) => ` ${kv.key}=${plainText(kv.value)}`).join("");
        out += `${plainText(r.body)}${attrs}\n`;
      }
    }
  }
  return out;
}

/** `detailed` verbosity: every field of every record. */
export function detailedText(logs: Logs): string {
  const out: string[] = [];
  logs.resourceLogs.forEach((rl, i) => {
    out.push(`ResourceLog #${i}`, `Resource SchemaURL: ${rl.schemaUrl}`);
    attributeLines("Resource attributes", rl.resource.attributes, out);
    rl.scopeLogs.forEach((sl, j) => {
      out.push(
        `ScopeLogs #${j}`,
        `ScopeLogs SchemaURL: ${sl.schemaUrl}`,
        `InstrumentationScope ${sl.scope.name} ${sl.scope.version}`,
      );
      attributeLines("InstrumentationScope attributes", sl.scope.attributes, out);
      sl.logRecords.forEach((r, k) => {
        out.push(
          `LogRecord #${k}`,
          `ObservedTimestamp: ${formatTimestamp(r.observedTimeUnixNano)}`,
          `Timestamp: ${formatTimestamp(r.timeUnixNano)}`,
          `SeverityText: ${r.severityText}`,
          `SeverityNumber: ${severityName(r.severityNumber)}(${r.severityNumber})`,
        );
        if (r.eventName !== "") out.push(`EventName: ${r.eventName}`);
        out.push(`Body: ${typedText(r.body)}`);
        attributeLines("Attributes", r.attributes, out);
        out.push(`Trace ID: ${hex(r.traceId)}`, `Span ID: ${hex(r.spanId)}`, `Flags: ${r.flags}`);
      });
    });
  });
  return out.length === 0 ? "" : out.join("\n") + "\n";
}
