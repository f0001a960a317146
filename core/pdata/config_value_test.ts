import assert from "node:assert/strict";
import { ConfigIssues } from "../config/reader.ts";
import { parseYaml } from "../config/load.ts";
import { configValue } from "./config_value.ts";
import type { AnyValue } from "./logs.ts";

function valueOf(yaml: string): AnyValue {
  const issues = new ConfigIssues();
  const node = parseYaml(`v: ${yaml}`, "test.yaml", undefined, issues);
  assert.ok(node?.type === "map", "parsed a map");
  return configValue(node.entries.get("v")!.node);
}

Deno.test("configValue keeps the YAML type: ints, doubles, strings, booleans, null", () => {
  assert.deepEqual(valueOf("1"), { kind: "int", value: 1n });
  assert.deepEqual(valueOf("0x10"), { kind: "int", value: 16n });
  assert.deepEqual(valueOf("1.0"), { kind: "double", value: 1 });
  assert.deepEqual(valueOf("1e3"), { kind: "double", value: 1000 });
  assert.deepEqual(valueOf('"1"'), { kind: "string", value: "1" });
  assert.deepEqual(valueOf("true"), { kind: "bool", value: true });
  assert.deepEqual(valueOf("null"), { kind: "empty" });
});

Deno.test("configValue converts lists and maps to arrays and kvlists", () => {
  assert.deepEqual(valueOf("[1, a]"), {
    kind: "array",
    value: [{ kind: "int", value: 1n }, { kind: "string", value: "a" }],
  });
  assert.deepEqual(valueOf("{k: 2.5}"), {
    kind: "kvlist",
    value: [{ key: "k", value: { kind: "double", value: 2.5 } }],
  });
});
