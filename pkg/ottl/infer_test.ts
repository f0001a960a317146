import assert from "node:assert/strict";
import { newLogRecord, newResource, newScope, stringValue } from "../../core/pdata/logs.ts";
import { compileConditionGroup, type EvalContext } from "./mod.ts";

const ctx = (): EvalContext => ({
  resource: newResource([{ key: "k8s.namespace.name", value: stringValue("default") }]),
  scope: newScope("io.app"),
  record: newLogRecord({ severityNumber: 13, body: stringValue("x") }),
  client: undefined,
});

Deno.test("a group's context is the highest-priority one its paths name: log, resource, scope", () => {
  const cases: [string[], string][] = [
    [['resource.attributes["k8s.namespace.name"] == "default"', 'log.body == "x"'], "log"],
    [['resource.attributes["a"] == nil', "resource.dropped_attributes_count > 0"], "resource"],
    [['scope.name == "io.app"'], "scope"],
    [['instrumentation_scope.name == "io.app"'], "scope"],
    [
      ['resource.attributes["k8s.namespace.name"] == "default"', 'log.attributes["a"] == nil'],
      "log",
    ],
    // Only the log context has the severity enums: a resource-only group using one is read there.
    [["SEVERITY_NUMBER_WARN == 13 and resource.dropped_attributes_count == 0"], "log"],
  ];
  for (const [texts, want] of cases) {
    const g = compileConditionGroup(texts, undefined);
    assert.deepEqual(g.errors.map((e) => e.message), [], texts.join(" | "));
    assert.equal(g.context, want, texts.join(" | "));
    assert.ok(g.conditions.some((c) => c.eval(ctx())), texts.join(" | "));
  }
});

Deno.test("a written context is used as is and prefixes the paths that name none", () => {
  const g = compileConditionGroup([
    'body == "x"',
    'resource.attributes["k8s.namespace.name"] == "y"',
  ], "log");
  assert.equal(g.context, "log");
  assert.deepEqual(g.errors, []);
  assert.deepEqual(g.conditions.map((c) => c.eval(ctx())), [true, false]);
  const r = compileConditionGroup(['attributes["k8s.namespace.name"] == "default"'], "resource");
  assert.equal(r.conditions[0]!.eval(ctx()), true);
});

Deno.test("inference and path errors point at the group or at the condition and column", () => {
  assert.match(
    compileConditionGroup(["true", "1 == 1"], undefined).errors[0]!.message,
    /^unable to infer context from conditions/,
  );
  assert.deepEqual(
    compileConditionGroup(['log.body == "x"', "log.body =="], undefined).errors.map((e) => e.index),
    [1],
  );
  const missing = compileConditionGroup(['log.body == "x" and severity_text == "INFO"'], undefined);
  assert.equal(missing.errors[0]!.index, 0);
  assert.match(
    missing.errors[0]!.message,
    /Missing context name for path "severity_text".* at column 21$/,
  );
  // A path whose context name is not one of the written context's gets it in front, as upstream.
  const scoped = compileConditionGroup(['scope.name == "a" and log.flags == 0'], "scope");
  assert.match(
    scoped.errors[0]!.message,
    /^Unsupported path "scope\.log\.flags" in the scope context .* at column 23$/,
  );
  // Without a written context, two contexts a group cannot mix are an error naming the path.
  assert.match(
    compileConditionGroup(['resource.attributes["a"] == nil or scope.name == "x"'], undefined)
      .errors[0]!.message,
    /^Context "scope" of path "scope\.name" is not valid in the resource context.* at column 36$/,
  );
});
