/**
 * The older include/exclude match blocks (upstream's `internal/filter`: filterset,
 * filtermatcher, filterlog), shared by the filter processor's `logs::include`/`exclude` and
 * the attributes processor's `include`/`exclude`.
 *
 * Within one block every property that is set must match (AND). Attribute and resource lists
 * need every listed key present (and equal to, or matching, its value when one is given);
 * `bodies` and `severity_texts` need any one entry to match. `regexp` patterns are Go
 * syntax and match anywhere in the text (unanchored, as Go's `MatchString`).
 *
 * @module
 */

import type {
  AnyValue,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Resource,
} from "../../core/pdata/logs.ts";
import { compileGoRegex } from "../../core/regex/go_regex.ts";
import { anyValuesEqual, valueAsString } from "../../core/pdata/values.ts";

/** `strict` compares exactly; `regexp` treats the configured strings as Go patterns. */
export type MatchType = "strict" | "regexp";

/** One `key` with an optional `value` of an attribute list. */
export interface AttributeMatch {
  readonly key: string;
  /** The configured value (its YAML type kept); absent = the key only has to exist. */
  readonly value?: AnyValue;
}

/** One `libraries` entry: the instrumentation scope's name and optional version. */
export interface LibraryMatch {
  readonly name: string;
  readonly version?: string;
}

/** A parsed match block. */
export interface MatchProperties {
  readonly matchType: MatchType;
  readonly resources: readonly AttributeMatch[];
  readonly attributes: readonly AttributeMatch[];
  readonly libraries: readonly LibraryMatch[];
  readonly bodies: readonly string[];
  readonly severityTexts: readonly string[];
  readonly severityNumber?: { readonly min: number; readonly matchUndefined: boolean };
}

/** True when a record matches a block. */
export type RecordMatcher = (
  resource: Resource,
  scope: InstrumentationScope,
  record: LogRecord,
) => boolean;

type StringSet = (s: string) => boolean;

/** A set of strings or Go patterns; throws a `SyntaxError` naming a bad pattern. */
export function stringSet(items: readonly string[], matchType: MatchType): StringSet {
  if (matchType === "strict") {
    const set = new Set(items);
    return (s) => set.has(s);
  }
  const res = [...new Set(items)].map((p) => compileGoRegex(p));
  return (s) => {
    for (let i = 0; i < res.length; i++) if (res[i]!.test(s)) return true;
    return false;
  };
}

/** A double without exponent, as Go's `strconv.FormatFloat(f, 'f', -1, 64)`. */
export function plainNumber(x: number): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(String(x));
  if (m === null) return String(x);
  const [, sign, first, frac = "", expText] = m;
  const digits = first! + frac;
  const exp = Number(expText);
  return exp >= 0
    ? sign + digits.padEnd(exp + 1, "0")
    : `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
}

/** The text of a scalar attribute for regexp matching, as upstream; lists and maps have none. */
function scalarText(v: AnyValue): string | undefined {
  switch (v.kind) {
    case "string":
      return v.value;
    case "bool":
    case "int":
      return String(v.value);
    case "double":
      return plainNumber(v.value);
    default:
      return undefined;
  }
}

function find(attrs: readonly KeyValue[], key: string): AnyValue | undefined {
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key === key) return attrs[i]!.value;
  return undefined;
}

type AttrsMatcher = (attrs: readonly KeyValue[]) => boolean;

function attributesMatcher(list: readonly AttributeMatch[], matchType: MatchType): AttrsMatcher {
  const checks = list.map((m): [string, ((v: AnyValue) => boolean) | undefined] => {
    const want = m.value;
    if (want === undefined) return [m.key, undefined];
    if (matchType === "regexp") {
      const re = stringSet([(want as AnyValue & { kind: "string" }).value], "regexp");
      return [m.key, (v) => {
        const text = scalarText(v);
        return text !== undefined && re(text);
      }];
    }
    return [m.key, (v) => anyValuesEqual(want, v)];
  });
  return (attrs) => {
    if (attrs.length === 0) return false;
    for (let i = 0; i < checks.length; i++) {
      const [key, check] = checks[i]!;
      const v = find(attrs, key);
      if (v === undefined || (check !== undefined && !check(v))) return false;
    }
    return true;
  };
}

/** Compiles a match block; throws a `SyntaxError` naming a bad pattern. */
export function compileMatcher(mp: MatchProperties): RecordMatcher {
  const t = mp.matchType;
  const bodies = mp.bodies.length > 0 ? stringSet(mp.bodies, t) : undefined;
  const texts = mp.severityTexts.length > 0 ? stringSet(mp.severityTexts, t) : undefined;
  const sev = mp.severityNumber;
  const libraries = mp.libraries.map((l) => ({
    name: stringSet([l.name], t),
    version: l.version === undefined ? undefined : stringSet([l.version], t),
  }));
  const resources = mp.resources.length > 0 ? attributesMatcher(mp.resources, t) : undefined;
  const attributes = mp.attributes.length > 0 ? attributesMatcher(mp.attributes, t) : undefined;
  return (resource, scope, record) => {
    if (bodies !== undefined && !bodies(valueAsString(record.body))) return false;
    if (texts !== undefined && !texts(record.severityText)) return false;
    if (sev !== undefined) {
      if (record.severityNumber === 0 ? !sev.matchUndefined : record.severityNumber < sev.min) {
        return false;
      }
    }
    for (const l of libraries) {
      if (!l.name(scope.name)) return false;
      if (l.version !== undefined && !l.version(scope.version)) return false;
    }
    if (resources !== undefined && !resources(resource.attributes)) return false;
    return attributes === undefined || attributes(record.attributes);
  };
}

/**
 * Upstream's include/exclude precedence: a record is skipped when an `include` block is
 * given and does not match it, or when it matches the `exclude` block.
 */
export function skipMatcher(
  include: RecordMatcher | undefined,
  exclude: RecordMatcher | undefined,
): RecordMatcher | undefined {
  if (include === undefined && exclude === undefined) return undefined;
  return (resource, scope, record) =>
    (include !== undefined && !include(resource, scope, record)) ||
    (exclude !== undefined && exclude(resource, scope, record));
}
