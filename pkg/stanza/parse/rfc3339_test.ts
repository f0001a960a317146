import assert from "node:assert/strict";
import { parseRfc3339Nano, parseRfc3339NanoBytes } from "./rfc3339.ts";

const NS = 1_000_000n;
const at = (iso: string) => BigInt(Date.parse(iso)) * NS;

Deno.test("parseRfc3339Nano: fractions, zones and separators", () => {
  assert.equal(
    parseRfc3339Nano("2024-05-01T12:00:00.123456789Z"),
    at("2024-05-01T12:00:00Z") + 123_456_789n,
  );
  assert.equal(parseRfc3339Nano("2024-05-01T12:00:00Z"), at("2024-05-01T12:00:00Z"));
  assert.equal(
    parseRfc3339Nano("2024-05-01t12:00:00,5z"),
    at("2024-05-01T12:00:00Z") + 500_000_000n,
  );
  assert.equal(
    parseRfc3339Nano("2024-05-01 12:00:00.1+02:00"),
    at("2024-05-01T10:00:00Z") + 100_000_000n,
  );
  assert.equal(
    parseRfc3339Nano("2024-05-01T12:00:00.000000001-01:30"),
    at("2024-05-01T13:30:00Z") + 1n,
  );
  for (
    const bad of [
      "2024-05-01T12:00:00",
      "2024-13-01T12:00:00Z",
      "2024-05-01T12:00:00.Z",
      "short",
      "2024-05-01T12:00:00+2:00",
    ]
  ) {
    assert.equal(parseRfc3339Nano(bad), undefined, bad);
  }
});

Deno.test("parseRfc3339Nano: a line in the same second as the one before is read as its own", () => {
  const base = at("2024-05-01T12:00:00Z");
  assert.equal(parseRfc3339Nano("2024-05-01T12:00:00.1Z"), base + 100_000_000n);
  assert.equal(parseRfc3339Nano("2024-05-01T12:00:00.2Z"), base + 200_000_000n);
  // Same second, then no zone, another zone, another second: never the last one's value.
  assert.equal(parseRfc3339Nano("2024-05-01T12:00:00.3"), undefined);
  assert.equal(parseRfc3339Nano("2024-05-01T12:00:00.3xZ"), undefined);
  assert.equal(
    parseRfc3339Nano("2024-05-01T12:00:00.3+01:00"),
    base - 3_600_000_000_000n + 300_000_000n,
  );
  assert.equal(parseRfc3339Nano("2024-05-01T12:00:00.3Z"), base + 300_000_000n);
  assert.equal(parseRfc3339Nano("2024-05-01T12:00:01.3Z"), base + 1_300_000_000n);
  assert.equal(parseRfc3339Nano("2024-05-01T12:00:01.3Zx"), undefined);
});

Deno.test("parseRfc3339NanoBytes: what parseRfc3339Nano gives for the same text, also right after it", () => {
  const texts = [
    "2024-05-01T12:00:00.1Z",
    "2024-05-01T12:00:00.2Z",
    "2024-05-01T12:00:00.3",
    "2024-05-01T12:00:00.3xZ",
    "2024-05-01T12:00:00.3+01:00",
    "2024-05-01T12:00:00.4+01:00",
    "2024-05-01T12:00:00Z",
    "2024-05-01T12:00:01.000000001Z",
    "2024-05-01T12:00:01.0000000019Z",
    "2024-05-01T12:00:01.5Zx",
    "2024-05-01T12:00:01,5z",
    "2024-05-01 12:00:01.6Z",
    "2024-05-01T12:00:01.",
    "2024-13-01T12:00:00Z",
    "short",
  ];
  const enc = new TextEncoder();
  for (let round = 0; round < 3; round++) {
    for (const t of texts) {
      // Framed by other bytes, as a line holds it; the string parse between keeps `last` moving.
      const b = enc.encode(`>${t} stdout`);
      assert.equal(parseRfc3339NanoBytes(b, 1, 1 + t.length), parseRfc3339Nano(t), t);
      assert.equal(parseRfc3339NanoBytes(b, 1, 1 + t.length), parseRfc3339Nano(t), `${t} again`);
    }
  }
  const nonAscii = enc.encode("2024-05-01T12:00:00.1\u00e9Z");
  assert.equal(parseRfc3339NanoBytes(nonAscii, 0, nonAscii.length), undefined);
  const longText = `2024-05-01T12:00:00.${"1".repeat(60)}Z`;
  const long = enc.encode(longText);
  assert.equal(parseRfc3339NanoBytes(long, 0, long.length), parseRfc3339Nano(longText));
  assert.equal(parseRfc3339Nano(longText), at("2024-05-01T12:00:00Z") + 111_111_111n);
});
