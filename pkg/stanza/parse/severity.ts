/**
 * Severity mapping for `severity_parser` and the `severity{}` block: upstream's presets
 * (`default` with its warning/err aliases and the numbers 1-24, `otel`/`aliases`, `none`),
 * user lists, `{min, max}` ranges and `2xx`-style status families, matched
 * case-insensitively.
 *
 * @module
 */

import type { ConfigReader } from "../../../core/config/reader.ts";
import type { Value } from "../entry.ts";

/** Upstream's level names and their OTLP severity numbers. */
export const LEVELS: Readonly<Record<string, number>> = {
  default: 0,
  trace: 1,
  trace2: 2,
  trace3: 3,
  trace4: 4,
  debug: 5,
  debug2: 6,
  debug3: 7,
  debug4: 8,
  info: 9,
  info2: 10,
  info3: 11,
  info4: 12,
  warn: 13,
  warn2: 14,
  warn3: 15,
  warn4: 16,
  error: 17,
  error2: 18,
  error3: 19,
  error4: 20,
  fatal: 21,
  fatal2: 22,
  fatal3: 23,
  fatal4: 24,
};

const TEXT: Record<number, string> = {};
for (const [k, v] of Object.entries(LEVELS)) TEXT[v] = k.toUpperCase();

/** Upstream's `otel` / `aliases` preset: the level names and the numbers "1".."24". */
function aliasesPreset(): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of Object.entries(LEVELS)) {
    if (v === 0) continue; // "default" is not in upstream's table
    m.set(k, v);
    m.set(String(v), v);
  }
  return m;
}

/** Upstream's default preset: `aliases` plus warning/warning2-4 and err/err2-4. */
function defaultPreset(): Map<string, number> {
  const m = aliasesPreset();
  for (const [suffix, n] of [["", 0], ["2", 1], ["3", 2], ["4", 3]] as const) {
    m.set(`warning${suffix}`, LEVELS.warn! + n);
    m.set(`err${suffix}`, LEVELS.error! + n);
  }
  return m;
}

/** Presets by name, as upstream's `preset` key. */
export const PRESETS = ["default", "otel", "aliases", "none"] as const;

/** Keys a `mapping` may name: upstream's level names and their numbers. */
const MAPPING_KEYS: ReadonlyMap<string, number> = new Map([
  ["default", 0],
  ...aliasesPreset(),
]);

/** A compiled mapping from raw values to severity numbers. */
export interface SeverityMapper {
  /** The severity for `v`, or undefined when nothing matches. */
  map(v: Value | undefined): number | undefined;
  /** Upstream's text for a severity number (`INFO`, `ERROR2`, ...). */
  text(n: number): string;
}

/** Reads `preset` and `mapping` from a severity section. */
export function parseSeverityMapping(r: ConfigReader): SeverityMapper {
  const preset = r.enum("preset", PRESETS, "default");
  // The user's mapping (exact values and ranges) wins over the preset's values.
  const base = preset === "none"
    ? new Map<string, number>()
    : preset === "default"
    ? defaultPreset()
    : aliasesPreset();
  const exact = new Map<string, number>();
  const ranges: Array<{ min: number; max: number; level: number }> = [];
  const mapping = r.section("mapping");
  for (const name of mapping.keys()) {
    const level = MAPPING_KEYS.get(name.toLowerCase());
    if (level === undefined) {
      mapping.error(
        name,
        `Unknown severity ${JSON.stringify(name)}: use one of ${Object.keys(LEVELS).join(", ")}`,
      );
      continue;
    }
    const node = mapping.raw(name);
    const items = node?.type === "seq" ? node.items : node === undefined ? [] : [node];
    for (const item of items) {
      if (item.type === "map") {
        const min = Number(
          item.entries.get("min")?.node.type === "scalar"
            ? (item.entries.get("min")!.node as { value: unknown }).value
            : NaN,
        );
        const max = Number(
          item.entries.get("max")?.node.type === "scalar"
            ? (item.entries.get("max")!.node as { value: unknown }).value
            : NaN,
        );
        if (Number.isNaN(min) || Number.isNaN(max)) {
          mapping.error(name, "A range needs numeric min and max");
        } else ranges.push({ min, max, level });
      } else if (item.type === "scalar") {
        const text = String(item.raw).toLowerCase();
        const fam = /^([1-5])xx$/.exec(text);
        if (fam) {
          const base = Number(fam[1]) * 100;
          ranges.push({ min: base, max: base + 99, level });
        } else exact.set(text, level);
      }
    }
  }
  const lookup = (key: string, n: number | undefined): number | undefined => {
    const hit = exact.get(key);
    if (hit !== undefined) return hit;
    if (n !== undefined) {
      for (const rg of ranges) {
        if (n >= rg.min && n <= rg.max) return rg.level;
      }
    }
    return base.get(key);
  };
  return {
    map(v: Value | undefined): number | undefined {
      if (v === undefined || v === null) return undefined;
      if (typeof v === "number" || typeof v === "bigint") {
        const n = Number(v);
        return lookup(String(v), n);
      }
      if (typeof v !== "string") return undefined;
      return lookup(v.toLowerCase(), /^\d+$/.test(v) ? Number(v) : undefined);
    },
    text: (n) => TEXT[n] ?? "",
  };
}
