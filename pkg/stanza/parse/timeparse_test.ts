import assert from "node:assert/strict";
import { newEntry } from "../entry.ts";
import { testPipeline } from "../testing.ts";
import { compileLayout } from "./timeparse.ts";

const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

/** Parses `text` with a UTC layout as if the clock read `nowIso`. */
function at(nowIso: string, layoutType: "strptime" | "gotime", layout: string, text: string) {
  const now = Date.parse(nowIso);
  return compileLayout({ layoutType, layout, location: "UTC", now: () => now }).parse(text);
}

Deno.test("a layout without a year takes the current year (syslog, strptime and gotime)", () => {
  const now = "2025-06-15T12:00:00Z";
  assert.equal(
    at(now, "strptime", "%b %e %H:%M:%S", "May  1 10:00:00"),
    ns("2025-05-01T10:00:00Z"),
  );
  assert.equal(at(now, "gotime", "Jan _2 15:04:05", "May  1 10:00:00"), ns("2025-05-01T10:00:00Z"));
  assert.equal(
    at(now, "gotime", "Jan _2 15:04:05.000", "Jun 20 01:02:03.456"),
    ns("2025-06-20T01:02:03.456Z"),
  );
});

Deno.test("a year-less time more than 7 days ahead is last year's, as upstream's setTimestampYear", () => {
  // New Year: December lines read on January 3rd belong to the year before.
  assert.equal(
    at("2025-01-03T00:00:00Z", "strptime", "%b %e %H:%M:%S", "Dec 31 23:59:59"),
    ns("2024-12-31T23:59:59Z"),
  );
  // The boundary: up to 7 days ahead stays this year (clock skew), beyond is last year.
  const now = "2025-03-01T00:00:00Z";
  assert.equal(at(now, "gotime", "Jan _2 15:04:05", "Mar  8 00:00:00"), ns("2025-03-08T00:00:00Z"));
  assert.equal(at(now, "gotime", "Jan _2 15:04:05", "Mar  8 00:00:01"), ns("2024-03-08T00:00:01Z"));
});

Deno.test("layouts with a year ignore the clock", () => {
  assert.equal(
    at("2025-01-03T00:00:00Z", "strptime", "%Y %b %e %H:%M:%S", "2030 Dec 31 23:59:59"),
    ns("2030-12-31T23:59:59Z"),
  );
  assert.equal(
    at("2025-01-03T00:00:00Z", "strptime", "%d/%m/%y %H:%M", "31/12/99 23:59"),
    ns("1999-12-31T23:59:00Z"),
  );
});

Deno.test("time_parser with a year-less layout stamps a time of this year or the last (never 1970)", () => {
  const { p, out } = testPipeline([{
    type: "time_parser",
    parse_from: "body",
    layout_type: "gotime",
    layout: "Jan _2 15:04:05",
    location: "UTC",
  }]);
  const before = BigInt(Date.now()) * 1_000_000n;
  p.process(newEntry("Jan  1 00:00:00", 1n));
  const t = out[0]!.timestamp;
  const day = 86_400_000_000_000n;
  assert.ok(t <= before + 7n * day, `${t} is in the future`);
  assert.ok(t > before - 367n * day, `${t} is more than a year old`);
});
