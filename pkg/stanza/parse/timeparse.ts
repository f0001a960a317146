/**
 * Timestamp parsing for `time_parser` and the `timestamp{}` block: strptime and Go layouts
 * compiled once into a regex, epoch values, and fixed or IANA locations. Results are exact
 * Unix nanoseconds as bigint.
 *
 * @module
 */

type Part =
  | "Y"
  | "y"
  | "m"
  | "b"
  | "B"
  | "d"
  | "e"
  | "j"
  | "H"
  | "I"
  | "M"
  | "S"
  | "p"
  | "frac"
  | "z"
  | "Z"
  | "a"
  | "A";

interface Tok {
  readonly part?: Part;
  readonly lit?: string;
  /** Fixed digit count for fractions (0 = any). */
  readonly digits?: number;
}

const PART_RE: Record<Part, string> = {
  Y: "(\\d{4})",
  y: "(\\d{2})",
  m: "(\\d{1,2})",
  b: "([A-Za-z]{3})",
  B: "([A-Za-z]+)",
  d: "(\\d{1,2})",
  e: "\\s?(\\d{1,2})",
  j: "(\\d{1,3})",
  H: "(\\d{1,2})",
  I: "(\\d{1,2})",
  M: "(\\d{2})",
  S: "(\\d{2})",
  p: "([AaPp][Mm])",
  frac: "(\\d+)",
  z: "(Z|[+-]\\d{2}:?\\d{2}|[+-]\\d{2})",
  Z: "([A-Za-z][A-Za-z0-9_/+-]*)",
  a: "(?:[A-Za-z]+)",
  A: "(?:[A-Za-z]+)",
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function strptimeTokens(layout: string): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i]!;
    if (c !== "%") {
      out.push({ lit: c });
      continue;
    }
    const d = layout[++i];
    switch (d) {
      case "Y":
      case "y":
      case "m":
      case "b":
      case "B":
      case "d":
      case "e":
      case "j":
      case "H":
      case "I":
      case "M":
      case "S":
      case "p":
      case "z":
      case "Z":
      case "a":
      case "A":
        out.push({ part: d });
        break;
      case "h":
        out.push({ part: "b" });
        break;
      case "L":
        out.push({ part: "frac", digits: 3 });
        break;
      case "f":
        out.push({ part: "frac", digits: 6 });
        break;
      case "s":
        out.push({ part: "frac", digits: 9 });
        break;
      case "k":
      case "l":
        out.push({ part: d === "k" ? "H" : "I" });
        break;
      case "i":
        out.push({ part: "z" });
        break;
      case "T":
        out.push(...strptimeTokens("%H:%M:%S"));
        break;
      case "D":
        out.push(...strptimeTokens("%m/%d/%y"));
        break;
      case "F":
        out.push(...strptimeTokens("%Y-%m-%d"));
        break;
      case "%":
        out.push({ lit: "%" });
        break;
      case "n":
      case "t":
        out.push({ lit: d === "n" ? "\n" : "\t" });
        break;
      default:
        throw new SyntaxError(`unsupported strptime directive "%${d ?? ""}"`);
    }
  }
  return out;
}

// Longest first so that "January" wins over "Jan" and "2006" over "2".
const GO_TOKENS: Array<[string, Tok]> = [
  ["January", { part: "B" }],
  ["Monday", { part: "A" }],
  ["Z07:00", { part: "z" }],
  ["-07:00", { part: "z" }],
  ["Z0700", { part: "z" }],
  ["-0700", { part: "z" }],
  ["2006", { part: "Y" }],
  ["Jan", { part: "b" }],
  ["Mon", { part: "a" }],
  ["MST", { part: "Z" }],
  ["Z07", { part: "z" }],
  ["-07", { part: "z" }],
  ["002", { part: "j" }],
  ["_2", { part: "e" }],
  ["01", { part: "m" }],
  ["02", { part: "d" }],
  ["03", { part: "I" }],
  ["04", { part: "M" }],
  ["05", { part: "S" }],
  ["06", { part: "y" }],
  ["15", { part: "H" }],
  ["PM", { part: "p" }],
  ["pm", { part: "p" }],
  ["1", { part: "m" }],
  ["2", { part: "d" }],
  ["3", { part: "I" }],
  ["4", { part: "M" }],
  ["5", { part: "S" }],
];

function gotimeTokens(layout: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < layout.length) {
    const frac = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(i));
    if (frac) {
      const zeros = frac[1]![0] === "0";
      // `.999` makes the fraction (and its dot) optional; `.000` requires the exact digits.
      out.push({ lit: layout[i]!, part: zeros ? "frac" : undefined });
      if (zeros) out[out.length - 1] = { part: "frac", digits: frac[1]!.length, lit: layout[i]! };
      else out[out.length - 1] = { part: "frac", digits: -1, lit: layout[i]! };
      i += frac[0].length;
      continue;
    }
    const hit = GO_TOKENS.find(([t]) => layout.startsWith(t, i));
    if (hit) {
      out.push(hit[1]);
      i += hit[0].length;
    } else {
      out.push({ lit: layout[i]! });
      i++;
    }
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A compiled layout: parses text to Unix nanoseconds. */
export interface TimeLayout {
  parse(text: string): bigint | Error;
}

/** Options for {@linkcode compileLayout}. */
export interface LayoutOptions {
  readonly layoutType: "strptime" | "gotime";
  readonly layout: string;
  /** `UTC`, `Local`, or an IANA zone name; used when the text has no offset. */
  readonly location: string;
  /** The clock for layouts without a year (Unix ms); tests pass a fixed one. */
  readonly now?: () => number;
}

/** How far ahead a year-less time may be before it counts as last year's (upstream: 7 days). */
const YEARLESS_FUTURE_MS = 7 * 24 * 3600 * 1000;

/** Compiles a strptime or Go layout; throws a `SyntaxError` for unsupported directives. */
export function compileLayout(opts: LayoutOptions): TimeLayout {
  const toks = opts.layoutType === "strptime"
    ? strptimeTokens(opts.layout)
    : gotimeTokens(opts.layout);
  let re = "^";
  const parts: Tok[] = [];
  for (const t of toks) {
    if (t.part === "frac") {
      const sep = escapeRe(t.lit ?? "");
      if (t.digits === -1) re += `(?:${sep}(\\d+))?`;
      else re += `${sep}(\\d{${t.digits}})`;
      parts.push(t);
    } else if (t.part !== undefined) {
      re += PART_RE[t.part];
      if (t.part !== "a" && t.part !== "A") parts.push(t);
    } else re += t.lit === " " ? "\\s+" : escapeRe(t.lit!);
  }
  const regex = new RegExp(re + "$");
  zoneOffsetMinutes(opts.location, Date.UTC(2000, 0, 1)); // validates the location
  const hasYear = parts.some((t) => t.part === "Y" || t.part === "y");
  const now = opts.now ?? Date.now;
  return {
    parse(text: string): bigint | Error {
      const m = regex.exec(text.trim());
      if (m === null) {
        return new Error(
          `Time ${JSON.stringify(text)} does not match layout ${JSON.stringify(opts.layout)}`,
        );
      }
      let year = 0, month = 1, day = 1, hour = 0, min = 0, sec = 0, nanos = 0;
      let pm: boolean | undefined;
      let offset: number | undefined;
      let zone: string | undefined;
      let yday: number | undefined;
      for (let i = 0; i < parts.length; i++) {
        const v = m[i + 1];
        if (v === undefined) continue;
        switch (parts[i]!.part) {
          case "Y":
            year = Number(v);
            break;
          case "y":
            year = 2000 + Number(v) - (Number(v) >= 69 ? 100 : 0);
            break;
          case "m":
            month = Number(v);
            break;
          case "b":
          case "B": {
            const idx = MONTHS.indexOf(v.slice(0, 3).toLowerCase());
            if (idx < 0) return new Error(`Unknown month ${JSON.stringify(v)}`);
            month = idx + 1;
            break;
          }
          case "d":
          case "e":
            day = Number(v);
            break;
          case "j":
            yday = Number(v);
            break;
          case "H":
          case "I":
            hour = Number(v);
            break;
          case "M":
            min = Number(v);
            break;
          case "S":
            sec = Number(v);
            break;
          case "p":
            pm = v.toLowerCase() === "pm";
            break;
          case "frac":
            nanos = Number(v.slice(0, 9).padEnd(9, "0"));
            break;
          case "z":
            offset = v === "Z" ? 0 : parseOffset(v);
            break;
          case "Z":
            zone = v;
            break;
        }
      }
      // Out-of-range fields are errors, as in Go's time.Parse (Date.UTC would wrap them).
      const range = outOfRange(year, month, day, hour, min, sec, pm !== undefined, yday);
      if (range !== undefined) {
        return new Error(`Time ${JSON.stringify(text)}: ${range} out of range`);
      }
      if (pm !== undefined) hour = (hour % 12) + (pm ? 12 : 0);
      const loc = zone !== undefined && zone.toUpperCase() !== "UTC" && zone !== "Z"
        ? zone
        : zone !== undefined
        ? "UTC"
        : opts.location;
      // Unix ms of the wall-clock time in `y` (in the text's offset or location).
      const instant = (y: number): number | Error => {
        const wall = yday !== undefined
          ? Date.UTC(y, 0, yday, hour, min, sec)
          : Date.UTC(y, month - 1, day, hour, min, sec);
        if (Number.isNaN(wall)) return new Error(`Invalid time ${JSON.stringify(text)}`);
        if (offset !== undefined) return wall - offset * 60_000;
        try {
          return wall - localOffset(loc, wall) * 60_000;
        } catch {
          return new Error(`Unknown time zone ${JSON.stringify(loc)}`);
        }
      };
      let ms: number | Error;
      if (hasYear) ms = instant(year);
      else {
        // No year in the layout (syslog's "Jan _2 15:04:05"): this year, or last year when
        // that would be more than a week in the future, as upstream's setTimestampYear.
        const nowMs = now();
        ms = instant(new Date(nowMs).getFullYear());
        if (typeof ms === "number" && ms > nowMs + YEARLESS_FUTURE_MS) {
          ms = instant(new Date(nowMs).getFullYear() - 1);
        }
      }
      if (ms instanceof Error) return ms;
      return BigInt(ms) * 1_000_000n + BigInt(nanos);
    },
  };
}

function outOfRange(
  year: number,
  month: number,
  day: number,
  hour: number,
  min: number,
  sec: number,
  twelveHour: boolean,
  yday: number | undefined,
): string | undefined {
  if (month < 1 || month > 12) return "month";
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (yday !== undefined) return yday < 1 || yday > (leap ? 366 : 365) ? "day of year" : undefined;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  if (day < 1 || day > days) return "day";
  if (hour > (twelveHour ? 12 : 23)) return "hour";
  if (min > 59) return "minute";
  if (sec > 59) return "second";
  return undefined;
}

function parseOffset(v: string): number {
  const sign = v[0] === "-" ? -1 : 1;
  const digits = v.slice(1).replace(":", "");
  const h = Number(digits.slice(0, 2));
  const m = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (h * 60 + m);
}

const dtfCache = new Map<string, Intl.DateTimeFormat>();

/** Offset in minutes of `zone` at the UTC instant `utcMs`. Throws on an unknown zone. */
export function zoneOffsetMinutes(zone: string, utcMs: number): number {
  if (zone === "UTC" || zone === "") return 0;
  if (zone === "Local") return -new Date(utcMs).getTimezoneOffset();
  let f = dtfCache.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    dtfCache.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(new Date(utcMs))) p[x.type] = Number(x.value);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

/** Offset of a wall-clock time `wallMs` (as if UTC) in `zone`. */
function localOffset(zone: string, wallMs: number): number {
  const first = zoneOffsetMinutes(zone, wallMs);
  return zoneOffsetMinutes(zone, wallMs - first * 60_000);
}

/** Epoch layouts of `layout_type: epoch`. */
export const EPOCH_LAYOUTS = ["s", "ms", "us", "ns", "s.ms", "s.us", "s.ns"] as const;

/** Parses an epoch value (number or numeric string) in the given unit to Unix nanoseconds. */
export function parseEpoch(
  value: string | number | bigint,
  layout: typeof EPOCH_LAYOUTS[number],
): bigint | Error {
  const text = String(value).trim();
  if (!/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) {
    return new Error(`Epoch value ${JSON.stringify(text)} is not a number`);
  }
  const scale: Record<string, bigint> = {
    s: 1_000_000_000n,
    ms: 1_000_000n,
    us: 1000n,
    ns: 1n,
  };
  const unit = layout.startsWith("s") ? "s" : layout;
  if (/e/i.test(text)) return BigInt(Math.round(Number(text) * Number(scale[unit]!)));
  const [whole, frac = ""] = text.split(".");
  const s = scale[unit]!;
  const digits = s.toString().length - 1;
  const fracNs = digits === 0 ? 0n : BigInt(frac.slice(0, digits).padEnd(digits, "0") || "0");
  const neg = whole!.startsWith("-");
  const base = BigInt(whole!) * s;
  return neg ? base - fracNs : base + fracNs;
}
