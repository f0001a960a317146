import assert from "node:assert/strict";
import { parseWith } from "../../tests/fakes/component_harness.ts";
import { parseRoutingConfig } from "./config.ts";

const PATH = "connectors::routing";

function parse(plain: unknown) {
  const { config, issues } = parseWith(parseRoutingConfig, plain, PATH);
  const errors = issues.filter((i) => i.severity === "error").map((i) => `${i.path}: ${i.message}`);
  const warnings = issues.filter((i) => i.severity === "warning").map((i) =>
    `${i.path}: ${i.message}`
  );
  return { config, errors, warnings };
}

function route(extra: Record<string, unknown>) {
  return { table: [{ pipelines: ["logs/a"], ...extra }] };
}

Deno.test("defaults: resource context, propagate, first match, no default pipelines", () => {
  const { config, errors, warnings } = parse(
    route({ condition: 'attributes["k8s.namespace.name"] == "a"' }),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, []);
  assert.equal(config.errorMode, "propagate");
  assert.equal(config.matchOnce, true);
  assert.deepEqual(config.defaultPipelines, []);
  assert.equal(config.routes.length, 1);
  assert.equal(config.routes[0]!.context, "resource");
  assert.deepEqual(config.routes[0]!.pipelines, ["logs/a"]);
});

Deno.test("every pipeline named is a reference with the key that names it", () => {
  const { config, errors } = parse({
    default_pipelines: ["logs/d"],
    table: [
      { condition: "true", pipelines: ["logs/a", "logs/b", "logs/a"] },
      { context: "log", condition: 'body == "x"', pipelines: ["logs/c"] },
    ],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(config.routes[0]!.pipelines, ["logs/a", "logs/b"], "each pipeline once");
  assert.deepEqual(config.references.map(({ key, pipeline }) => ({ key, pipeline })), [
    { key: "default_pipelines", pipeline: "logs/d" },
    { key: "table::0::pipelines", pipeline: "logs/a" },
    { key: "table::0::pipelines", pipeline: "logs/b" },
    { key: "table::1::pipelines", pipeline: "logs/c" },
  ]);
});

Deno.test("a missing or empty table is an error", () => {
  assert.deepEqual(parse({ default_pipelines: ["logs/d"] }).errors, [
    `${PATH}: The routing table is missing: add \`table\` with at least one route (condition and pipelines)`,
  ]);
  assert.deepEqual(parse({ table: [] }).errors, [
    `${PATH}::table: The routing table is empty: add at least one route (condition and pipelines)`,
  ]);
  assert.deepEqual(parse({ table: [null] }).errors, [
    `${PATH}::table::0: Route #0 is empty: write its condition and pipelines`,
  ]);
});

Deno.test("exactly one of condition and statement", () => {
  assert.deepEqual(parse(route({})).errors, [
    `${PATH}::table::0: Route #0 has neither a condition nor a statement: write exactly one of them`,
  ]);
  assert.deepEqual(parse(route({ condition: "", statement: " " })).errors, [
    `${PATH}::table::0: Route #0 has neither a condition nor a statement: write exactly one of them`,
  ]);
  assert.deepEqual(parse(route({ condition: "true", statement: "route() where true" })).errors, [
    `${PATH}::table::0::statement: Route #0 has both a condition and a statement: write exactly one of them`,
  ]);
});

Deno.test("pipelines are required and non-empty", () => {
  assert.deepEqual(parse({ table: [{ condition: "true" }] }).errors, [
    `${PATH}::table::0: Route #0 has no pipelines: list the pipelines its records go to under \`pipelines\``,
  ]);
  assert.deepEqual(parse({ table: [{ condition: "true", pipelines: [] }] }).errors, [
    `${PATH}::table::0::pipelines: Route #0 has no pipelines: list the pipelines its records go to under \`pipelines\``,
  ]);
});

Deno.test("a statement is route() where <condition>; not allowed in the request context", () => {
  const ok = parse(route({ context: "log", statement: 'route() where severity_text == "ERROR"' }));
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.config.routes[0]!.text, 'severity_text == "ERROR"');
  assert.deepEqual(parse(route({ statement: "route()" })).errors, [], "route() alone: always");
  assert.deepEqual(
    parse(route({ context: "request", statement: 'route() where request["x"] == "a"' })).errors,
    [
      `${PATH}::table::0::statement: The request context takes a condition, not a statement: write \`condition: request["<header>"] == "<value>"\``,
    ],
  );
  assert.deepEqual(parse(route({ statement: 'set(attributes["x"], 1)' })).errors, [
    `${PATH}::table::0::statement: Statement 'set(attributes["x"], 1)': the only statement a route takes is \`route() where <condition>\` (or write the condition under \`condition\`)`,
  ]);
});

Deno.test("a condition that does not compile is an error with its column", () => {
  assert.deepEqual(parse(route({ condition: 'attributes["a"] == Frob("x")' })).errors, [
    `${PATH}::table::0::condition: Condition 'attributes["a"] == Frob("x")': Unsupported function "Frob" (supported: IsMatch, IsString, IsInt, Len, Concat, HasPrefix, HasSuffix) at column 20`,
  ]);
  // In a statement the column counts from the start of the statement.
  const { errors } = parse(route({ statement: 'route() where attributes["a"] == Frob("x")' }));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /Unsupported function "Frob".* at column 34$/);
  // body is a log path, not a resource one.
  const body = parse(route({ condition: 'body == "x"' })).errors;
  assert.equal(body.length, 1);
  assert.match(body[0]!, /Unsupported path "body" in the resource context .* at column 1$/);
});

Deno.test("an unknown context is an error naming the valid ones; other signals' contexts too", () => {
  assert.deepEqual(parse(route({ context: "spans", condition: "true" })).errors, [
    `${PATH}::table::0::context: Invalid context "spans": must be one of "resource" (the default), "log", "request"`,
  ]);
  assert.deepEqual(parse(route({ context: "span", condition: "true" })).errors, [
    `${PATH}::table::0::context: The span context applies to traces only; this collector routes logs: use one of "resource", "log", "request"`,
  ]);
});

Deno.test("error_mode takes propagate, ignore, silent", () => {
  assert.equal(
    parse({ ...route({ condition: "true" }), error_mode: "ignore" }).config.errorMode,
    "ignore",
  );
  const { errors } = parse({ ...route({ condition: "true" }), error_mode: "loud" });
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^connectors::routing::error_mode: Invalid value "loud"/);
});

Deno.test("match_once: accepted with a warning that upstream removed it", () => {
  const on = parse({ ...route({ condition: "true" }), match_once: true });
  assert.equal(on.config.matchOnce, true);
  assert.deepEqual(on.errors, []);
  assert.equal(on.warnings.length, 1);
  assert.match(
    on.warnings[0]!,
    /^connectors::routing::match_once: Upstream removed match_once in v0\.120\.0: first-match \(true\) is the only behaviour/,
  );
  const off = parse({ ...route({ condition: "true" }), match_once: false });
  assert.equal(off.config.matchOnce, false);
  assert.match(
    off.warnings[0]!,
    /here match_once: false still sends a record to every route that matches/,
  );
});

Deno.test("a repeated route is ignored with a warning, as upstream", () => {
  const { config, errors, warnings } = parse({
    table: [
      { condition: 'attributes["a"] == "1"', pipelines: ["logs/a"] },
      { condition: 'attributes["a"] == "1" ', pipelines: ["logs/b"] },
      { context: "log", condition: 'attributes["a"] == "1"', pipelines: ["logs/c"] },
    ],
  });
  assert.deepEqual(errors, []);
  assert.deepEqual(
    config.routes.map((r) => r.index),
    [0, 2],
    "same text in another context is another route",
  );
  assert.deepEqual(warnings, [
    `${PATH}::table::1: Route #1 repeats the condition of route #0 in the resource context; it is ignored (its pipelines get nothing from it)`,
  ]);
  // Its pipelines are still references, so a typo there is still caught.
  assert.ok(config.references.some((r) => r.pipeline === "logs/b"));
});

Deno.test("unknown keys are errors with a suggestion", () => {
  const { errors } = parse({ ...route({ condition: "true" }), default_pipeline: ["logs/d"] });
  assert.equal(errors.length, 1);
  assert.match(
    errors[0]!,
    /default_pipeline: Unknown key "default_pipeline" \(did you mean "default_pipelines"\?\)/,
  );
});

Deno.test("without a context, paths that name theirs choose it (upstream's inference), else resource", () => {
  const contextOf = (condition: string) => parse(route({ condition })).config.routes[0]?.context;
  assert.equal(contextOf('log.attributes["level"] == "error"'), "log");
  assert.equal(contextOf('resource.attributes["a"] == "x" and log.body == "y"'), "log");
  assert.equal(contextOf('resource.attributes["a"] == "x"'), "resource");
  assert.equal(contextOf('attributes["a"] == "x"'), "resource");
  // The scope context does not route here (nor upstream): the resource context's error shows.
  const { errors } = parse(route({ condition: 'scope.name == "x"' }));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /Unsupported path "scope.name" in the resource context/);
  // A written context is not second-guessed.
  const written = parse(route({ context: "resource", condition: 'log.body == "x"' })).errors;
  assert.match(written[0]!, /Unsupported path "log.body" in the resource context/);
});
