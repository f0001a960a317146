import assert from "node:assert/strict";
import { expandEnv } from "./expand.ts";

const ENV: Record<string, string> = { HOST: "gw", PORT: "4318", EMPTY: "" };
const env = (k: string) => ENV[k];

Deno.test("expandEnv() expands ${env:X}, ${X} and defaults", () => {
  assert.equal(expandEnv("http://${env:HOST}:${PORT}", env).text, "http://gw:4318");
  assert.equal(expandEnv("${env:MISSING:-fallback}", env).text, "fallback");
  assert.equal(expandEnv("${env:EMPTY:-fallback}", env).text, "fallback");
  assert.equal(expandEnv("${env:HOST:-fallback}", env).text, "gw");
});

Deno.test("expandEnv() turns an unset variable without default into an empty string", () => {
  const r = expandEnv("a${env:MISSING}b", env);
  assert.equal(r.text, "ab");
  assert.deepEqual(r.errors, []);
});

Deno.test("expandEnv() keeps $$ as a literal dollar and leaves bare $ alone", () => {
  assert.equal(expandEnv("cost $$5 and ${env:PORT}", env).text, "cost $5 and 4318");
  assert.equal(expandEnv("$$${env:PORT}", env).text, "$4318");
  assert.equal(expandEnv("regex ^a$", env).text, "regex ^a$");
  assert.equal(expandEnv("$$1", env).text, "$1");
});

Deno.test("expandEnv() reports whole references and bad ones", () => {
  assert.equal(expandEnv("${env:PORT}", env).whole, true);
  assert.equal(expandEnv("x${env:PORT}", env).whole, false);
  assert.match(expandEnv("${file:/etc/x}", env).errors[0]!, /Unsupported config provider "file"/);
  assert.match(expandEnv("${env:PORT", env).errors[0]!, /Unterminated/);
  assert.match(expandEnv("${env:1BAD}", env).errors[0]!, /Invalid environment variable name/);
});
