/**
 * Shared parts of stanza's complex parsers: `parse_from`, `parse_to`, and the embedded
 * `timestamp{}` and `severity{}` blocks, which run after the main parse.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Entry, Value } from "../entry.ts";
import { type Field, fieldText, getField, parseField, setField } from "../field.ts";
import { parseSeverityMapping, type SeverityMapper } from "../parse/severity.ts";
import { compileLayout, EPOCH_LAYOUTS, parseEpoch, type TimeLayout } from "../parse/timeparse.ts";

/** Reads a field key; reports a bad field and returns the default. */
export function readField(r: ConfigReader, key: string, def: string): Field {
  const text = r.string(key, def);
  const f = parseField(text);
  if (f instanceof Error) {
    r.error(key, f.message);
    return parseField(def) as Field;
  }
  return f;
}

/** A compiled `timestamp{}` / `time_parser`. */
export interface TimeSpec {
  readonly parseFrom: Field;
  apply(e: Entry): string | undefined;
}

/** Reads a time parser config (`parse_from`, `layout_type`, `layout`, `location`). */
export function parseTimeSpec(r: ConfigReader, defaultFrom: string): TimeSpec | undefined {
  const parseFrom = readField(r, "parse_from", defaultFrom);
  const layoutType = r.enum("layout_type", ["strptime", "gotime", "epoch"] as const, "strptime");
  const layout = r.optionalString("layout");
  const location = r.string("location", "Local");
  if (layout === undefined) {
    r.error("layout", "layout is required: e.g. layout: '%Y-%m-%dT%H:%M:%S.%L%z'");
    return undefined;
  }
  let parse: (v: Value) => bigint | Error;
  if (layoutType === "epoch") {
    if (!(EPOCH_LAYOUTS as readonly string[]).includes(layout)) {
      r.error(
        "layout",
        `Invalid epoch layout ${JSON.stringify(layout)}: use one of ${EPOCH_LAYOUTS.join(", ")}`,
      );
      return undefined;
    }
    parse = (v) =>
      typeof v === "string" || typeof v === "number" || typeof v === "bigint"
        ? parseEpoch(v, layout as typeof EPOCH_LAYOUTS[number])
        : new Error("epoch value is not a number or string");
  } else {
    let compiled: TimeLayout;
    try {
      compiled = compileLayout({ layoutType, layout, location });
    } catch (err) {
      r.error(
        (err as Error).message.includes("zone") ? "location" : "layout",
        `Invalid ${layoutType} layout or location: ${(err as Error).message}`,
      );
      return undefined;
    }
    parse = (v) =>
      typeof v === "string" ? compiled.parse(v) : new Error("time value is not a string");
  }
  return {
    parseFrom,
    apply(e: Entry): string | undefined {
      const v = getField(e, parseFrom);
      if (v === undefined) return `time field ${fieldText(parseFrom)} is missing`;
      const t = parse(v);
      if (t instanceof Error) return t.message;
      e.timestamp = t;
      return undefined;
    },
  };
}

/** A compiled `severity{}` / `severity_parser`. */
export interface SeveritySpec {
  apply(e: Entry): string | undefined;
}

/** Reads a severity parser config (`parse_from`, `preset`, `mapping`, `overwrite_text`). */
export function parseSeveritySpec(r: ConfigReader, defaultFrom: string): SeveritySpec {
  const parseFrom = readField(r, "parse_from", defaultFrom);
  const overwrite = r.bool("overwrite_text", false);
  const mapper: SeverityMapper = parseSeverityMapping(r);
  return {
    apply(e: Entry): string | undefined {
      let v = getField(e, parseFrom);
      if (v === undefined) return `severity field ${fieldText(parseFrom)} is missing`;
      if (v instanceof Uint8Array) v = new TextDecoder().decode(v);
      if (typeof v === "number" && !Number.isInteger(v)) {
        return `severity ${v} is not a whole number`;
      }
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "bigint") {
        return `severity field ${fieldText(parseFrom)} holds ${
          v === null
            ? "null"
            : Array.isArray(v)
            ? "a list"
            : typeof v === "object"
            ? "a map"
            : "a bool"
        }, not a string or number`;
      }
      const n = mapper.map(v) ?? 0;
      e.severity = n;
      // As upstream, overwrite_text leaves the raw text of values that map to nothing.
      e.severityText = overwrite && n !== 0 ? mapper.text(n) : String(v);
      return undefined;
    },
  };
}

/** parse_from / parse_to and the optional embedded blocks of a complex parser. */
export interface ParserConfig {
  readonly parseFrom: Field;
  readonly parseTo: Field;
  readonly timestamp: TimeSpec | undefined;
  readonly severity: SeveritySpec | undefined;
}

/** Reads the parser keys, rejecting `trace`/`scope_name` blocks that are not implemented. */
export function parseParserConfig(
  r: ConfigReader,
  defaults: { from?: string; to?: string } = {},
): ParserConfig {
  for (const k of ["trace", "scope_name"]) {
    if (r.has(k) && r.raw(k) !== undefined) r.error(k, `${k} is not supported yet: remove it`);
  }
  const parseFrom = readField(r, "parse_from", defaults.from ?? "body");
  const parseTo = readField(r, "parse_to", defaults.to ?? "attributes");
  const timestamp = r.raw("timestamp") !== undefined
    ? parseTimeSpec(r.section("timestamp"), "attributes.time")
    : undefined;
  const severity = r.raw("severity") !== undefined
    ? parseSeveritySpec(r.section("severity"), "attributes.severity")
    : undefined;
  return { parseFrom, parseTo, timestamp, severity };
}

/** Writes a parse result to `parse_to`, then runs the embedded blocks; returns an error text. */
export function finishParse(e: Entry, cfg: ParserConfig, parsed: Value): string | undefined {
  setField(e, cfg.parseTo, parsed);
  const t = cfg.timestamp?.apply(e);
  if (t !== undefined) return t;
  return cfg.severity?.apply(e);
}
