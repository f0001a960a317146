/**
 * Reading match blocks in their two upstream spellings: the filter processor's
 * `logs::include`/`exclude` (`resource_attributes`, `record_attributes`, `severity_texts`,
 * `severity_number`, `bodies`) and the generic one of the attributes processor
 * (`attributes`, `resources`, `libraries`, `log_bodies`, `log_severity_texts`,
 * `log_severity_number`).
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import { configValue } from "../../core/pdata/config_value.ts";
import { SeverityNumber } from "../../core/pdata/logs.ts";
import type { AttributeMatch, LibraryMatch, MatchProperties, MatchType } from "./match.ts";
import { compileMatcher, type RecordMatcher } from "./match.ts";

/** Which spelling of the keys a block uses. */
export type MatchBlockStyle = "filter_logs" | "generic";

const KEYS: Readonly<Record<MatchBlockStyle, Record<string, string>>> = {
  filter_logs: {
    resources: "resource_attributes",
    attributes: "record_attributes",
    bodies: "bodies",
    severityTexts: "severity_texts",
    severityNumber: "severity_number",
  },
  generic: {
    resources: "resources",
    attributes: "attributes",
    bodies: "log_bodies",
    severityTexts: "log_severity_texts",
    severityNumber: "log_severity_number",
  },
};

const SEVERITIES: ReadonlyMap<string, number> = new Map(
  Object.entries(SeverityNumber).filter(([, n]) => n > 0).flatMap((
    [name, n],
  ) => [[name, n], [String(n), n]]),
);

function readAttributeList(r: ConfigReader, key: string, matchType: MatchType): AttributeMatch[] {
  return r.list(key).map((item) => {
    const k = item.string("key", "");
    if (k === "") item.error("key", 'Missing or empty key: every entry needs a "key"');
    const raw = item.raw("value");
    const value = raw === undefined ? undefined : configValue(raw);
    if (value !== undefined && matchType === "regexp" && value.kind !== "string") {
      item.error(
        "value",
        `match_type=regexp for ${
          JSON.stringify(k)
        } only supports string values, but found ${value.kind}`,
      );
      return { key: k };
    }
    return { key: k, value };
  });
}

function readSeverityNumber(r: ConfigReader, key: string): MatchProperties["severityNumber"] {
  if (r.raw(key) === undefined) return undefined;
  const s = r.section(key);
  const minText = s.string("min", "");
  const min = minText === "" ? 0 : SEVERITIES.get(minText.toUpperCase());
  if (min === undefined) {
    s.error(
      "min",
      `${
        JSON.stringify(minText)
      } is not a valid severity: use a name (TRACE … FATAL4, any case) or a number 1-24`,
    );
  }
  return { min: min ?? 0, matchUndefined: s.bool("match_undefined", false) };
}

/**
 * Reads one include/exclude block. Returns `undefined` when it is not written, or when it
 * sets no property and `emptyAllowed` (the filter processor ignores such blocks; elsewhere
 * an empty block is an error, as upstream).
 */
export function readMatchProperties(
  r: ConfigReader,
  style: MatchBlockStyle,
  emptyAllowed: boolean,
): MatchProperties | undefined {
  if (r.node === undefined) return undefined;
  const keys = KEYS[style];
  const matchTypeText = r.optionalString("match_type");
  const matchType: MatchType = matchTypeText === "regexp" ? "regexp" : "strict";
  const mp: MatchProperties = {
    matchType,
    resources: readAttributeList(r, keys.resources!, matchType),
    attributes: readAttributeList(r, keys.attributes!, matchType),
    libraries: style === "generic"
      ? r.list("libraries").map((l): LibraryMatch => ({
        name: l.string("name", ""),
        version: l.optionalString("version"),
      }))
      : [],
    bodies: r.stringList(keys.bodies!),
    severityTexts: r.stringList(keys.severityTexts!),
    severityNumber: readSeverityNumber(r, keys.severityNumber!),
  };
  if (style === "generic") {
    for (const k of ["services", "span_names", "span_kinds", "metric_names"]) {
      if (r.has(k)) r.error(k, `${k} is not valid for log records (this collector handles logs)`);
    }
  }
  const empty = mp.resources.length === 0 && mp.attributes.length === 0 &&
    mp.libraries.length === 0 && mp.bodies.length === 0 && mp.severityTexts.length === 0 &&
    mp.severityNumber === undefined;
  if (empty) {
    if (!emptyAllowed) {
      r.error(
        undefined,
        `At least one of ${
          Object.values(keys).concat(style === "generic" ? ["libraries"] : []).map((k) => `"${k}"`)
            .join(", ")
        } must be specified`,
      );
    }
    return undefined;
  }
  if (matchTypeText === undefined) {
    r.error(undefined, 'Missing "match_type": set it to "strict" or "regexp"');
  } else if (matchTypeText !== "strict" && matchTypeText !== "regexp") {
    r.error(
      "match_type",
      `Unrecognized match_type ${
        JSON.stringify(matchTypeText)
      }: valid types are "regexp", "strict"`,
    );
  }
  return mp;
}

/** Reads a block and compiles it; a bad pattern is a config error at the block. */
export function readMatcher(
  r: ConfigReader,
  style: MatchBlockStyle,
  emptyAllowed: boolean,
): RecordMatcher | undefined {
  const mp = readMatchProperties(r, style, emptyAllowed);
  if (mp === undefined) return undefined;
  try {
    return compileMatcher(mp);
  } catch (err) {
    r.error(undefined, `Invalid pattern: ${err instanceof Error ? err.message : err}`);
    return undefined;
  }
}
