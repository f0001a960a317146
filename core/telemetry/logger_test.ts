import assert from "node:assert/strict";
import { createLogger } from "./logger.ts";

Deno.test("json logger writes level, msg and fields; drops lines under the level", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", encoding: "json", sink: (l) => lines.push(l) })
    .with({ "otelcol.component.id": "filelog" });
  log.debug("hidden");
  log.warn("careful", { n: 5n, error: new Error("boom") });
  assert.equal(lines.length, 1);
  const obj = JSON.parse(lines[0]!);
  assert.equal(obj.level, "warn");
  assert.equal(obj.msg, "careful");
  assert.equal(obj["otelcol.component.id"], "filelog");
  assert.equal(obj.n, "5");
  assert.equal(obj.error, "boom");
  assert.equal(log.enabled("debug"), false);
});

Deno.test("console logger writes tab-separated time, level, message and fields", () => {
  const lines: string[] = [];
  createLogger({ sink: (l) => lines.push(l) }).info("hello", { a: 1 });
  const parts = lines[0]!.split("\t");
  assert.equal(parts[1], "info");
  assert.equal(parts[2], "hello");
  assert.equal(parts[3], '{"a":1}');
});
