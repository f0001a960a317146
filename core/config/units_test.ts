import assert from "node:assert/strict";
import { formatDuration, parseByteSize, parseDuration } from "./units.ts";

Deno.test("parseDuration() reads Go durations into milliseconds", () => {
  assert.equal(parseDuration("200ms"), 200);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("500us"), 0.5);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("-1s"), -1000);
});

Deno.test("parseDuration() rejects text that is not a duration", () => {
  for (const bad of ["", "5", "1x", "ms", "1m30", "1 s", "abc"]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});

Deno.test("parseByteSize() reads decimal and binary units, case-insensitively", () => {
  assert.equal(parseByteSize("1MiB"), 1_048_576);
  assert.equal(parseByteSize("10kb"), 10_000);
  assert.equal(parseByteSize("16KB"), 16_000);
  assert.equal(parseByteSize("1KiB"), 1024);
  assert.equal(parseByteSize("4096"), 4096);
  assert.equal(parseByteSize("1.5MiB"), 1_572_864);
  assert.equal(parseByteSize("2GiB"), 2 * 1024 ** 3);
  assert.equal(parseByteSize("12parsecs"), undefined);
  assert.equal(parseByteSize("-1"), undefined);
});

Deno.test("formatDuration() prints the largest whole unit", () => {
  assert.equal(formatDuration(90_000), "90s");
  assert.equal(formatDuration(120_000), "2m");
  assert.equal(formatDuration(250), "250ms");
  assert.equal(formatDuration(0), "0s");
});
