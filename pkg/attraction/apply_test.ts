import assert from "node:assert/strict";
import type { ClientInfo } from "../../core/consumer.ts";
import type { AnyValue, KeyValue } from "../../core/pdata/logs.ts";
import { parseWith } from "../../tests/fakes/component_harness.ts";
import { applyActions, hashValue } from "./apply.ts";
import { readActions } from "./config.ts";

const str = (value: string): AnyValue => ({ kind: "string", value });
const int = (value: bigint): AnyValue => ({ kind: "int", value });

function actions(list: unknown[]) {
  const { config, issues } = parseWith(
    (r) => readActions(r, "actions"),
    { actions: list },
    "processors::attributes",
  );
  assert.deepEqual(issues, []);
  return config;
}

function run(list: unknown[], attrs: KeyValue[], client?: ClientInfo): Record<string, unknown> {
  applyActions(actions(list), attrs, client);
  return Object.fromEntries(
    attrs.map((kv) => [kv.key, "value" in kv.value ? kv.value.value : null]),
  );
}

Deno.test("hash: SHA-256 hex of upstream's bytes (UTF-8, int64/float64 little-endian, one byte for bools)", () => {
  // Digests computed independently: python3 hashlib.sha256 with struct.pack('<q'/'<d').
  assert.equal(
    hashValue(str("user-42")),
    "6d894aa3ee802549d7f340e7c1cf0d1c1cb14cd84f768d92ffaa6785337c4997",
  );
  assert.equal(
    hashValue(str("ü")),
    "607474ca475a9724d7360aba71a56d5df77e61350e3f724cfa1f46e857e2d85f",
  );
  assert.equal(
    hashValue(int(42n)),
    "ed049108bc18f2c64369e8d0ea42850bdd1a7d1dd340cfde716315579702a76c",
  );
  assert.equal(
    hashValue({ kind: "double", value: 1.5 }),
    "e163f8cb0f7067a7fc78ca859a77f849aea3214f38fb75b884e4a16be725c905",
  );
  assert.equal(
    hashValue({ kind: "bool", value: true }),
    "4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a",
  );
  assert.equal(hashValue({ kind: "array", value: [] }), "");
});

Deno.test("hash is stable across records and differs from the input; pattern hashes matching keys", () => {
  const list = [{ key: "user.id", action: "hash" }, { pattern: "^secret\\.", action: "hash" }];
  const a = run(list, [{ key: "user.id", value: str("u-1") }, { key: "secret.x", value: int(7n) }, {
    key: "k",
    value: str("v"),
  }]);
  const b = run(list, [{ key: "user.id", value: str("u-1") }, { key: "secret.x", value: int(7n) }]);
  const c = run(list, [{ key: "user.id", value: str("u-2") }]);
  assert.equal(a["user.id"], b["user.id"]);
  assert.notEqual(a["user.id"], "u-1");
  assert.notEqual(a["user.id"], c["user.id"]);
  assert.match(String(a["user.id"]), /^[0-9a-f]{64}$/);
  assert.equal(a["secret.x"], hashValue(int(7n)));
  assert.equal(a["k"], "v");
});

Deno.test("insert, update, upsert, delete, from_attribute, from_context", () => {
  const client: ClientInfo = {
    addr: "10.0.0.1",
    metadata: new Map([["x-tenant", ["a", "b"]]]),
    auth: { subject: "svc", groups: ["g1", "g2"] },
  };
  const out = run([
    { key: "env", value: "prod", action: "insert" },
    { key: "kept", value: "new", action: "insert" },
    { key: "missing", value: 1, action: "update" },
    { key: "kept2", value: 2.5, action: "update" },
    { key: "up", value: true, action: "upsert" },
    { key: "copy", from_attribute: "kept", action: "upsert" },
    { key: "none", from_attribute: "absent", action: "upsert" },
    { key: "tenant", from_context: "metadata.X-Tenant", action: "insert" },
    { key: "tenant2", from_context: "x-tenant", action: "insert" },
    { key: "who", from_context: "auth.subject", action: "insert" },
    { key: "groups", from_context: "auth.groups", action: "insert" },
    { key: "peer", from_context: "client.address", action: "insert" },
    { key: "user.email", action: "delete" },
    { pattern: "^tmp\\.", action: "delete" },
  ], [
    { key: "kept", value: str("old") },
    { key: "kept2", value: str("x") },
    { key: "user.email", value: str("a@b.c") },
    { key: "tmp.a", value: str("1") },
    { key: "tmp.b", value: str("2") },
  ], client);
  assert.deepEqual(out, {
    kept: "old",
    kept2: 2.5,
    env: "prod",
    up: true,
    copy: "old",
    tenant: "a;b",
    tenant2: "a;b",
    who: "svc",
    groups: "g1;g2",
    peer: "10.0.0.1",
  });
});

Deno.test("extract sets every named group; convert as upstream", () => {
  const out = run([
    {
      key: "path",
      pattern: "^/api/(?P<version>v\\d+)/(?P<resource>\\w+)(?:/(?P<id>\\d+))?$",
      action: "extract",
    },
    { key: "n", action: "convert", converted_type: "int" },
    { key: "d", action: "convert", converted_type: "int" },
    { key: "bad", action: "convert", converted_type: "int" },
    { key: "s", action: "convert", converted_type: "double" },
    { key: "b", action: "convert", converted_type: "string" },
    { key: "f", action: "convert", converted_type: "string" },
  ], [
    { key: "path", value: str("/api/v2/users") },
    { key: "n", value: str("-12") },
    { key: "d", value: { kind: "double", value: 3.9 } },
    { key: "bad", value: str("12a") },
    { key: "s", value: str("1e3") },
    { key: "b", value: { kind: "bool", value: false } },
    { key: "f", value: { kind: "double", value: 1e21 } },
  ]);
  assert.deepEqual(out, {
    path: "/api/v2/users",
    version: "v2",
    resource: "users",
    id: "",
    n: -12n,
    d: 3n,
    bad: "12a",
    s: 1000,
    b: "false",
    f: "1e+21",
  });
});

Deno.test("action errors name the action's index, the key and what to do", () => {
  const { issues } = parseWith((r) => readActions(r, "actions"), {
    actions: [
      { value: "x", action: "insert" },
      { key: "a", action: "insert" },
      { key: "a", value: 1, from_attribute: "b", action: "upsert" },
      { key: "a", action: "frobnicate" },
      { key: "a", pattern: "(", action: "hash" },
      { key: "a", pattern: "(?P<x>a)(b)", action: "extract" },
      { key: "a", pattern: "ab", action: "extract" },
      { key: "a", action: "convert", converted_type: "float" },
      { action: "delete" },
      { key: "a", value: 1, action: "delete" },
    ],
  }, "processors::attributes");
  const text = issues.map((i) => `${i.path}: ${i.message}`);
  const expect = [
    /^processors::attributes::actions::0: Missing required field "key" in the action #0$/,
    /^processors::attributes::actions::1: Either "value", "from_attribute" or "from_context" must be set/,
    /^processors::attributes::actions::2: Only one of "value", "from_attribute" may be set/,
    /^processors::attributes::actions::3::action: Unsupported action "frobnicate" in the action #3/,
    /^processors::attributes::actions::4::pattern: Invalid pattern "\("/,
    /^processors::attributes::actions::5::pattern: The pattern contains an unnamed group/,
    /^processors::attributes::actions::6::pattern: The pattern contains no named groups/,
    /^processors::attributes::actions::7::converted_type: Invalid value "float"/,
    /^processors::attributes::actions::8: At least one of "key" and "pattern" must be set/,
    /^processors::attributes::actions::9::value: Action "delete" does not use "value"/,
  ];
  assert.equal(text.length, expect.length, text.join("\n"));
  expect.forEach((re, i) => assert.match(text[i]!, re));
  assert.ok(issues.every((i) => i.pos !== undefined));

  const empty = parseWith((r) => readActions(r, "actions"), {}, "processors::attributes").issues;
  assert.match(empty[0]!.message, /Missing required field "actions"/);
});
