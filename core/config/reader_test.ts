import assert from "node:assert/strict";
import { fromPlain } from "./node.ts";
import { ConfigIssues, ConfigReader, editDistance, suggest } from "./reader.ts";

function reader(plain: unknown): ConfigReader {
  return new ConfigReader(fromPlain(plain), "receivers::x", new ConfigIssues());
}

Deno.test("ConfigReader returns defaults for keys not written", () => {
  const r = reader({});
  assert.equal(r.string("a", "d"), "d");
  assert.equal(r.bool("b", true), true);
  assert.equal(r.duration("c", 200), 200);
  assert.equal(r.byteSize("d", 1024), 1024);
  assert.deepEqual(r.stringList("e", ["x"]), ["x"]);
  r.done();
  assert.deepEqual(r.issues.list, []);
});

Deno.test("ConfigReader reads typed values", () => {
  const r = reader({
    s: 5,
    b: false,
    d: "1m30s",
    z: "1MiB",
    e: "end",
    l: ["a", "b"],
    one: "solo",
    m: { k: "v" },
    nested: { inner: 3 },
  });
  assert.equal(r.string("s", ""), "5");
  assert.equal(r.bool("b", true), false);
  assert.equal(r.duration("d", 0), 90_000);
  assert.equal(r.byteSize("z", 0), 1_048_576);
  assert.equal(r.enum("e", ["beginning", "end"] as const, "beginning"), "end");
  assert.deepEqual(r.stringList("l"), ["a", "b"]);
  assert.deepEqual(r.stringList("one"), ["solo"]);
  assert.deepEqual(r.stringMap("m"), { k: "v" });
  assert.equal(r.section("nested").int("inner", 0), 3);
  r.done();
  assert.deepEqual(r.issues.list, []);
});

Deno.test("ConfigReader reports wrong types, ranges and enum values with paths", () => {
  const r = reader({ n: "many", i: 1.5, lo: -1, b: "yes", d: "fast", z: "huge", e: "start" });
  r.number("n", 0);
  r.int("i", 0);
  r.int("lo", 0, { min: 0 });
  r.bool("b", false);
  r.duration("d", 0);
  r.byteSize("z", 0);
  r.enum("e", ["beginning", "end"] as const, "end");
  const msgs = r.issues.list.map((i) => `${i.path}: ${i.message}`);
  assert.equal(msgs.length, 7);
  assert.match(msgs[0]!, /^receivers::x::n: Expected a number/);
  assert.match(msgs[1]!, /Expected a whole number/);
  assert.match(msgs[2]!, /Must be at least 0: current value is -1/);
  assert.match(msgs[3]!, /Expected a boolean/);
  assert.match(msgs[4]!, /Invalid duration "fast"/);
  assert.match(msgs[5]!, /Invalid size "huge"/);
  assert.match(msgs[6]!, /Invalid value "start": must be one of "beginning", "end"/);
});

Deno.test("done() reports unknown keys at every depth with a suggestion", () => {
  const r = reader({ start_att: "end", nested: { poll_intervall: "1s" } });
  r.string("start_at", "end");
  r.section("nested").duration("poll_interval", 200);
  r.done();
  r.done(); // twice is harmless
  const msgs = r.issues.list.map((i) => `${i.path}: ${i.message}`);
  assert.equal(msgs.length, 2);
  assert.match(
    msgs[0]!,
    /^receivers::x::nested::poll_intervall: Unknown key .*did you mean "poll_interval"/,
  );
  assert.match(msgs[1]!, /^receivers::x::start_att: Unknown key .*did you mean "start_at"/);
});

Deno.test("a section that is not a map is an error", () => {
  const r = reader({ tls: "yes" });
  r.section("tls").bool("insecure", false);
  assert.match(r.issues.list[0]!.message, /Expected a map/);
});

Deno.test("suggest() finds likely typos only", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(suggest("filelg", ["filelog", "otlp"]), "filelog");
  assert.equal(suggest("zzz", ["filelog", "otlp"]), undefined);
});
