import assert from "node:assert/strict";
import type { ClientInfo } from "../../core/consumer.ts";
import {
  type AnyValue,
  newLogRecord,
  newResource,
  newScope,
  stringValue,
} from "../../core/pdata/logs.ts";
import { compileCondition, type EvalContext, OttlEvalError, OttlSyntaxError } from "./mod.ts";

const int = (n: bigint): AnyValue => ({ kind: "int", value: n });

function ctx(client?: ClientInfo): EvalContext {
  return {
    resource: newResource([{ key: "k8s.namespace.name", value: stringValue("kube-system") }]),
    scope: newScope("io.app", "1.2"),
    record: newLogRecord({
      severityNumber: 9,
      severityText: "INFO",
      body: stringValue("héllo world"),
      attributes: [
        { key: "n", value: int(5n) },
        { key: "d", value: { kind: "double", value: 2.5 } },
        { key: "b", value: { kind: "bool", value: true } },
        { key: "raw", value: { kind: "bytes", value: new Uint8Array([0xde, 0xad]) } },
        {
          key: "m",
          value: {
            kind: "kvlist",
            value: [{ key: "z", value: int(1n) }, { key: "a<", value: stringValue("x") }],
          },
        },
        { key: "l", value: { kind: "array", value: [stringValue("p"), int(2n)] } },
      ],
    }),
    client,
  };
}

function check(text: string, want: boolean, c: EvalContext = ctx()): void {
  assert.equal(compileCondition(text)(c), want, text);
}

Deno.test("paths read the record, its scope and its resource", () => {
  check('resource.attributes["k8s.namespace.name"] == "kube-system"', true);
  check('resource.attributes["k8s.namespace.name"] == "default"', false);
  check('instrumentation_scope.name == "io.app" and scope.version == "1.2"', true);
  check('severity_text == "INFO" and log.severity_number == 9', true);
  check('body == "héllo world"', true);
  check('attributes["m"]["z"] == 1 and attributes["l"][0] == "p"', true);
  check('attributes["m"]["missing"] == nil', true);
});

Deno.test("comparisons follow OTTL's rules", () => {
  check('attributes["n"] == 5 and attributes["n"] == 5.0 and attributes["n"] < 5.5', true);
  check('attributes["d"] > 2 and attributes["d"] <= 2.5', true);
  check('attributes["n"] == "5"', false); // no conversion between types
  check('attributes["n"] != "5"', true); // mismatched types are only "not equal"
  check('attributes["n"] < "6" or attributes["n"] > "6"', false);
  check('attributes["missing"] == nil and nil == attributes["missing"]', true);
  check('attributes["missing"] != "x" and not (attributes["missing"] == "x")', true);
  check('attributes["missing"] <= nil and attributes["missing"] >= nil', true);
  check('attributes["missing"] < 1 or attributes["missing"] > 1', false);
  check('attributes["b"] == true and attributes["b"] > false', true);
  check('"abc" < "abd" and "b" > "abc"', true);
  check('attributes["raw"] == 0xdead and attributes["raw"] < 0xdeae', true);
  check('attributes["m"] == attributes["m"] and attributes["m"] != attributes["l"]', true);
  check('attributes["m"] < attributes["m"]', false);
});

Deno.test("severity enums, and/or/not precedence and parentheses", () => {
  check("severity_number >= SEVERITY_NUMBER_INFO and severity_number < SEVERITY_NUMBER_WARN", true);
  check("severity_number == SEVERITY_NUMBER_UNSPECIFIED", false);
  check("true or false and false", true); // and binds tighter
  check("(true or false) and false", false);
  check('not severity_text == "INFO" or true', true);
  check('not (severity_text == "INFO" or true)', false);
});

Deno.test("converters", () => {
  check('IsMatch(body, "^h.llo")', true);
  check('IsMatch(attributes["n"], "^5$") and IsMatch(attributes["raw"], "^dead$")', true);
  // Maps as Go's encoding/json writes them: keys sorted, "<" escaped.
  check('Concat([attributes["m"]], "") == "{\\"a\\\\u003c\\":\\"x\\",\\"z\\":1}"', true);
  check('IsMatch(attributes["missing"], ".*")', false);
  check('IsMatch(body, "(?i)^HÉLLO")', true);
  check(
    'IsString(body) and not IsString(attributes["n"]) and not IsString(attributes["missing"])',
    true,
  );
  check('IsInt(attributes["n"]) and not IsInt(attributes["d"])', true);
  check("Len(body) == 12", true); // UTF-8 bytes, as Go's len
  check(
    'Len(attributes["m"]) == 2 and Len(attributes["l"]) == 2 and Len(attributes["raw"]) == 2',
    true,
  );
  check(
    'Concat([severity_text, attributes["n"], attributes["missing"], attributes["d"]], "|") == "INFO|5|<nil>|2.5"',
    true,
  );
  check(
    'HasPrefix(body, "hé") and HasSuffix(body, "world") and not HasPrefix(body, "world")',
    true,
  );
});

Deno.test("request metadata: any value matches; a missing key matches neither == nor !=", () => {
  const c = ctx({ metadata: new Map([["x-tenant", ["a", "b"]]]) });
  check('request["X-Tenant"] == "b"', true, c);
  check('request["X-Tenant"] != "a"', true, c);
  check('request["x-tenant"] == "c"', false, c);
  check('request["X-Other"] == "a" or request["X-Other"] != "a"', false, c);
  check('request["X-Tenant"] == "a"', false, ctx());
  check('IsMatch(request["X-Tenant"], "^a$")', true, c); // first value elsewhere
  assert.equal(compileCondition('request["X-Tenant"] == "a"', "request")(c), true);
});

Deno.test("evaluation errors are OttlEvalError", () => {
  for (
    const text of [
      'HasPrefix(attributes["n"], "5")',
      'HasSuffix(attributes["missing"], "x")',
      'Len(attributes["n"]) == 1',
      'attributes["l"][5] == 1',
      'attributes["n"]["x"] == 1',
    ]
  ) {
    assert.throws(() => compileCondition(text)(ctx()), OttlEvalError, text);
  }
  // JSON has no NaN: a map holding one cannot be read as a string.
  const c = ctx();
  c.record.attributes.push({
    key: "nan",
    value: { kind: "kvlist", value: [{ key: "x", value: { kind: "double", value: NaN } }] },
  });
  assert.throws(
    () => compileCondition('IsMatch(attributes["nan"], "x")')(c),
    new OttlEvalError("json: unsupported value: NaN"),
  );
});

Deno.test("unsupported paths, functions and syntax name themselves and their column", () => {
  const cases: [string, RegExp, number][] = [
    ['body == "x" and span.name == "y"', /Unsupported path "span\.name"/, 17],
    ['attributes["a"] == 1 or Frobnicate(body)', /Unsupported function "Frobnicate"/, 25],
    ['set(attributes["a"], 1)', /"set" is an editor/, 1],
    ["severity_number == SEVERITY_NUMBER_LOUD", /Unknown enum "SEVERITY_NUMBER_LOUD"/, 20],
    ["severity_number == 1 + 2", /Arithmetic/, 22],
    ['body = "x"', /Unexpected "="/, 6],
    ['body == "x" and', /end of the condition/, 16],
    ["body", /expected a comparison operator/, 5],
    ['IsMatch(body, "[")', /not a valid regexp/, 15],
    ["IsMatch(body, severity_text)", /pattern must be a string literal/, 15],
    ["Len(body)", /returns int, not a boolean/, 1],
    ["Len(body, body) == 1", /Len takes 1 argument, got 2/, 1],
    ['body == "open', /Unterminated string/, 9],
    [
      "attributes[severity_text] == 1",
      /expected a string or a non-negative whole number as key/,
      12,
    ],
    ['{"a": 1} == body', /Map literals/, 1],
    ["", /empty/, 1],
  ];
  for (const [text, message, col] of cases) {
    assert.throws(() => compileCondition(text), (err: unknown) => {
      assert.ok(err instanceof OttlSyntaxError, `${text}: ${err}`);
      assert.match(err.message, message, text);
      assert.equal(err.col, col, `${text}: ${err.message}`);
      assert.match(err.message, new RegExp(`at column ${col}$`));
      return true;
    });
  }
});

Deno.test("the resource context reads resource attributes as attributes and has no log paths", () => {
  const c = ctx();
  assert.equal(
    compileCondition('attributes["k8s.namespace.name"] == "kube-system"', "resource")(c),
    true,
  );
  assert.throws(
    () => compileCondition('body == "x"', "resource"),
    /Unsupported path "body" in the resource context/,
  );
  assert.throws(
    () => compileCondition("severity_number == SEVERITY_NUMBER_INFO", "resource"),
    /Unsupported path/,
  );
});
