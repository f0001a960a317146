import assert from "node:assert/strict";
import { loadConfig, parseYaml } from "./load.ts";
import { type ConfigNode, toPlain } from "./node.ts";
import { ConfigIssues } from "./reader.ts";

const ENV: Record<string, string> = {
  PORT: "4318",
  CFG: "exporters:\n  debug:\n    verbosity: normal\n",
};
const options = (files: Record<string, string> = {}) => ({
  env: (k: string) => ENV[k],
  readFile: (p: string) =>
    p in files ? Promise.resolve(files[p]!) : Promise.reject(new Deno.errors.NotFound(p)),
});

Deno.test("parseYaml() keeps line and column of every value", () => {
  const issues = new ConfigIssues();
  const node = parseYaml("a:\n  b: 1\n  c: [x, y]\n", "f.yaml", () => undefined, issues)!;
  assert.equal(node.type, "map");
  const a = (node as ConfigNode & { type: "map" }).entries.get("a")!.node;
  const b = (a as ConfigNode & { type: "map" }).entries.get("b")!;
  assert.deepEqual(b.node.pos, { file: "f.yaml", line: 2, col: 6 });
  assert.deepEqual(b.keyPos, { file: "f.yaml", line: 2, col: 3 });
});

Deno.test("parseYaml() reports syntax errors and duplicate keys with positions", () => {
  const issues = new ConfigIssues();
  parseYaml("a: 1\na: 2\n", "dup.yaml", () => undefined, issues);
  assert.equal(issues.errors.length, 1);
  assert.match(issues.errors[0]!.message, /unique/i);
  assert.equal(issues.errors[0]!.pos?.file, "dup.yaml");
  const issues2 = new ConfigIssues();
  parseYaml("a: [1, 2\n", "bad.yaml", () => undefined, issues2);
  assert.ok(issues2.errors.length >= 1);
  assert.match(issues2.errors[0]!.message, /Invalid YAML/);
});

Deno.test("parseYaml() keeps the source text of scalars (0750 stays 0750)", () => {
  const issues = new ConfigIssues();
  const node = parseYaml("mode: 0750\n", "f", () => undefined, issues) as ConfigNode & {
    type: "map";
  };
  const mode = node.entries.get("mode")!.node;
  assert.equal(mode.type === "scalar" && mode.raw, "0750");
});

Deno.test("a whole ${env:X} reference is typed as YAML; a partial one stays a string", () => {
  const issues = new ConfigIssues();
  const node = parseYaml("p: ${env:PORT}\nq: x${env:PORT}\n", "f", (k) => ENV[k], issues);
  assert.deepEqual(toPlain(node), { p: 4318, q: "x4318" });
});

Deno.test("loadConfig() merges sources in order: maps merge, lists are replaced, later wins", async () => {
  const issues = new ConfigIssues();
  const files = {
    "base.yaml":
      "exporters:\n  debug:\n    verbosity: basic\n    sampling_initial: 5\nlist: [a, b, c]\n",
    "over.yaml": "exporters:\n  debug:\n    verbosity: detailed\nlist: [z]\n",
  };
  const root = await loadConfig(["base.yaml", "file:over.yaml"], [], options(files), issues);
  assert.deepEqual(issues.list, []);
  assert.deepEqual(toPlain(root), {
    exporters: { debug: { verbosity: "detailed", sampling_initial: 5 } },
    list: ["z"],
  });
});

Deno.test("loadConfig() reads env: and yaml: sources, expanding :: keys", async () => {
  const issues = new ConfigIssues();
  const root = await loadConfig(
    ["env:CFG", "yaml:exporters::debug::sampling_initial: 7"],
    [],
    options(),
    issues,
  );
  assert.deepEqual(issues.list, []);
  assert.deepEqual(toPlain(root), {
    exporters: { debug: { verbosity: "normal", sampling_initial: 7 } },
  });
});

Deno.test("loadConfig() applies --set overrides last, typed as YAML", async () => {
  const issues = new ConfigIssues();
  const root = await loadConfig(
    ["env:CFG"],
    ["exporters::debug::verbosity=detailed", "exporters::debug::sampling_initial=3"],
    options(),
    issues,
  );
  assert.deepEqual(toPlain(root), {
    exporters: { debug: { verbosity: "detailed", sampling_initial: 3 } },
  });
  const bad = new ConfigIssues();
  await loadConfig([], ["novalue", "a::::b=1"], options(), bad);
  assert.equal(bad.errors.length, 2);
  assert.match(bad.errors[0]!.message, /expected path::to::key=value/);
});

Deno.test("loadConfig() reports a missing file, an unset env source and an unknown scheme", async () => {
  const issues = new ConfigIssues();
  await loadConfig(["nope.yaml", "env:UNSET", "s3:bucket/x"], [], options(), issues);
  const messages = issues.errors.map((e) => e.message);
  assert.match(messages[0]!, /Cannot read config file "nope.yaml": no such file/);
  assert.match(messages[1]!, /UNSET is not set/);
  assert.match(messages[2]!, /unsupported scheme "s3"/);
});

Deno.test("parseYaml() resolves anchors, aliases and merge keys", () => {
  const issues = new ConfigIssues();
  const text = `defaults: &d
  timeout: 5s
  headers: {a: "1"}
one:
  <<: *d
  timeout: 1s
two: *d
`;
  const node = parseYaml(text, "f", () => undefined, issues);
  assert.deepEqual(issues.list, []);
  assert.deepEqual(toPlain(node), {
    defaults: { timeout: "5s", headers: { a: "1" } },
    one: { timeout: "1s", headers: { a: "1" } },
    two: { timeout: "5s", headers: { a: "1" } },
  });
});

Deno.test("parseYaml() stops a billion-laughs document with an error", () => {
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    levels.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(", ")}]`);
  }
  const issues = new ConfigIssues();
  parseYaml(levels.join("\n") + "\n", "lol.yaml", () => undefined, issues);
  assert.equal(issues.errors.length, 1);
  assert.match(issues.errors[0]!.message, /too large or too deeply nested/);
});

Deno.test("a whole ${env:X} reference may hold a YAML list or map; unset variables warn", () => {
  const issues = new ConfigIssues();
  const env = (k: string) =>
    ({ PATHS: "[/var/log/a.log, /var/log/b.log]", HDRS: "{x-tenant: acme}", TEXT: "a: b: c" })[k];
  const node = parseYaml(
    "include: ${env:PATHS}\nheaders: ${env:HDRS}\nodd: ${env:TEXT}\nmissing: ${env:NOPE}\n",
    "f",
    env,
    issues,
  );
  assert.deepEqual(toPlain(node), {
    include: ["/var/log/a.log", "/var/log/b.log"],
    headers: { "x-tenant": "acme" },
    odd: "a: b: c",
    missing: "",
  });
  assert.deepEqual(issues.errors, []);
  assert.equal(issues.warnings.length, 1);
  assert.match(issues.warnings[0]!.message, /NOPE is not set/);
});
