import assert from "node:assert/strict";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { bearerTokenAuthFactory } from "./mod.ts";

function parse(plain: unknown) {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "extensions::bearertokenauth", issues);
  const cfg = bearerTokenAuthFactory.parseConfig(r);
  r.done();
  const text = issues.list.map((i) => `${i.severity} ${i.path}: ${i.message}`).join("\n");
  return { cfg, text };
}

Deno.test("bearertokenauth config: upstream's keys and defaults", () => {
  assert.deepEqual(parse({ token: "s3cr3t" }), {
    cfg: { header: "Authorization", scheme: "Bearer", tokens: ["s3cr3t"], filename: "" },
    text: "",
  });
  assert.deepEqual(parse({ tokens: ["a", "b"], scheme: "" }).cfg.tokens, ["a", "b"]);
  const file = parse({ filename: "/var/run/secrets/token", header: "X-Api-Key", scheme: "" });
  assert.deepEqual(file.cfg, {
    header: "X-Api-Key",
    scheme: "",
    tokens: [],
    filename: "/var/run/secrets/token",
  });
});

Deno.test("bearertokenauth config: a missing or doubled token and bad values are errors", () => {
  assert.match(parse({}).text, /No bearer token provided: set "token", "tokens" or "filename"/);
  assert.match(
    parse({ token: "a", tokens: ["b"] }).text,
    /tokens: Either "tokens" or "token" should be provided, not both/,
  );
  assert.match(
    parse({ token: "a", filename: "/t" }).text,
    /warning extensions::bearertokenauth::token: Ignored: "filename" is set and wins/,
  );
  assert.match(parse({ token: "a\nb" }).text, /token: Must be one line/);
  assert.match(parse({ tokens: ["a", "b\r"] }).text, /tokens::1: Must be one line/);
  assert.match(parse({ tokens: ["a", " "] }).text, /tokens::1: Must not be empty/);
  assert.match(parse({ token: "a", header: "Bad Header" }).text, /header: Invalid header name/);
  assert.match(parse({ token: "a", tokn: "b" }).text, /tokn/);
});
