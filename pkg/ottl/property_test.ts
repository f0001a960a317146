/**
 * Property test: seeded random conditions over seeded random records give the same answer
 * (or the same error) as a small reference evaluator that works on a plain model of the
 * record and its own table of OTTL's comparison rules, not on the compiled closures.
 */

import assert from "node:assert/strict";
import type { AnyValue, KeyValue } from "../../core/pdata/logs.ts";
import { newLogRecord, newResource, newScope } from "../../core/pdata/logs.ts";
import { Prng } from "../../core/pdata/testing.ts";
import { compileCondition, compileConditionGroup, type EvalContext, OttlEvalError } from "./mod.ts";

/** The reference model of a value: a type tag and a JS value. */
type Ref =
  | { t: "nil" }
  | { t: "str"; v: string }
  | { t: "num"; v: number; int: boolean }
  | { t: "bool"; v: boolean };

type Op = "==" | "!=" | "<" | "<=" | ">" | ">=";

type Operand =
  | { kind: "path"; text: string; read: (r: Model) => Ref }
  | { kind: "lit"; text: string; value: Ref };

type Tree =
  | { kind: "cmp"; op: Op; left: Operand; right: Operand }
  | {
    kind: "fn";
    name: "IsString" | "IsInt" | "HasPrefix" | "IsMatch";
    arg: Operand;
    extra: string;
  }
  | { kind: "and" | "or"; terms: Tree[] }
  | { kind: "not"; inner: Tree }
  | { kind: "const"; value: boolean };

interface Model {
  resource: Map<string, Ref>;
  attributes: Map<string, Ref>;
  body: Ref;
  severity: number;
  severityText: string;
  scopeName: string;
}

const KEYS = ["a", "b", "k8s.namespace.name"];
const STRINGS = ["", "a", "ab", "b", "kube-system", "Ab"];

function randomRef(p: Prng): Ref {
  switch (p.int(5)) {
    case 0:
      return { t: "nil" };
    case 1:
      return { t: "str", v: p.pick(STRINGS) };
    case 2:
      return { t: "num", v: p.int(5) - 2, int: true };
    case 3:
      return { t: "num", v: p.pick([-1.5, 0, 0.5, 1, 2.25]), int: false };
    default:
      return { t: "bool", v: p.chance(0.5) };
  }
}

function toAny(r: Ref): AnyValue | undefined {
  switch (r.t) {
    case "nil":
      return undefined;
    case "str":
      return { kind: "string", value: r.v };
    case "bool":
      return { kind: "bool", value: r.v };
    case "num":
      return r.int ? { kind: "int", value: BigInt(r.v) } : { kind: "double", value: r.v };
  }
}

function toAttributes(m: Map<string, Ref>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, r] of m) {
    const value = toAny(r);
    if (value !== undefined) out.push({ key, value });
  }
  return out;
}

function randomModel(p: Prng): Model {
  const map = (): Map<string, Ref> => new Map(KEYS.map((k) => [k, randomRef(p)]));
  return {
    resource: map(),
    attributes: map(),
    body: randomRef(p),
    severity: p.int(25),
    severityText: p.pick(["", "INFO", "WARN"]),
    scopeName: p.pick(["", "a", "io.app"]),
  };
}

function literalText(r: Ref): string {
  switch (r.t) {
    case "nil":
      return "nil";
    case "str":
      return JSON.stringify(r.v);
    case "bool":
      return String(r.v);
    case "num":
      return r.int ? String(r.v) : r.v.toFixed(2);
  }
}

const SEVERITY_ENUMS: [string, number][] = [["SEVERITY_NUMBER_INFO", 9], [
  "SEVERITY_NUMBER_WARN",
  13,
]];

function randomOperand(p: Prng): Operand {
  const key = p.pick(KEYS);
  switch (p.int(8)) {
    case 0:
      return {
        kind: "path",
        text: `attributes[${JSON.stringify(key)}]`,
        read: (m) => m.attributes.get(key)!,
      };
    case 1:
      return {
        kind: "path",
        text: `resource.attributes[${JSON.stringify(key)}]`,
        read: (m) => m.resource.get(key)!,
      };
    case 2:
      return { kind: "path", text: "body", read: (m) => m.body };
    case 3:
      return {
        kind: "path",
        text: "severity_number",
        read: (m) => ({ t: "num", v: m.severity, int: true }),
      };
    case 4:
      return {
        kind: "path",
        text: "severity_text",
        read: (m) => ({ t: "str", v: m.severityText }),
      };
    case 5:
      return {
        kind: "path",
        text: "instrumentation_scope.name",
        read: (m) => ({ t: "str", v: m.scopeName }),
      };
    case 6: {
      const [name, n] = p.pick(SEVERITY_ENUMS);
      return { kind: "lit", text: name, value: { t: "num", v: n, int: true } };
    }
    default: {
      const value = randomRef(p);
      return { kind: "lit", text: literalText(value), value };
    }
  }
}

function randomTree(p: Prng, depth: number): Tree {
  const r = p.int(depth > 2 ? 4 : 8);
  if (r < 4) {
    const kind = p.int(6);
    if (kind === 5) return { kind: "const", value: p.chance(0.5) };
    if (kind === 4) {
      const name = p.pick(["IsString", "IsInt", "HasPrefix", "IsMatch"] as const);
      return { kind: "fn", name, arg: randomOperand(p), extra: p.pick(["a", "b", "1"]) };
    }
    const op = p.pick(["==", "!=", "<", "<=", ">", ">="] as const);
    return { kind: "cmp", op, left: randomOperand(p), right: randomOperand(p) };
  }
  if (r < 5) return { kind: "not", inner: randomTree(p, depth + 1) };
  const terms = Array.from({ length: 2 + p.int(2) }, () => randomTree(p, depth + 1));
  return { kind: p.chance(0.5) ? "and" : "or", terms };
}

function operandText(o: Operand): string {
  return o.text;
}

function treeText(t: Tree, p: Prng): string {
  const sp = (): string => p.pick([" ", "  ", "\t"]);
  switch (t.kind) {
    case "const":
      return String(t.value);
    case "cmp":
      return `${operandText(t.left)}${sp()}${t.op}${sp()}${operandText(t.right)}`;
    case "fn":
      return t.name === "HasPrefix" || t.name === "IsMatch"
        ? `${t.name}(${operandText(t.arg)},${sp()}"${t.name === "IsMatch" ? "^" : ""}${t.extra}")`
        : `${t.name}(${operandText(t.arg)})`;
    case "not":
      return `not${sp()}(${treeText(t.inner, p)})`;
    default:
      return t.terms.map((x) => `(${treeText(x, p)})`).join(`${sp()}${t.kind}${sp()}`);
  }
}

// The reference rules, written as a table per pair of types.
function refCompare(a: Ref, b: Ref, op: Op): boolean {
  const order = (x: number | string, y: number | string): boolean =>
    ({
      "==": x === y,
      "!=": x !== y,
      "<": x < y,
      "<=": x <= y,
      ">": x > y,
      ">=": x >= y,
    })[op];
  if (a.t === "nil" && b.t === "nil") return ["==", "<=", ">="].includes(op);
  if (a.t === "num" && b.t === "num") return order(a.v, b.v);
  if (a.t === "str" && b.t === "str") return order(a.v, b.v);
  if (a.t === "bool" && b.t === "bool") return order(Number(a.v), Number(b.v));
  return op === "!=";
}

class RefError extends Error {}

function refText(r: Ref): string | null {
  switch (r.t) {
    case "nil":
      return null;
    case "str":
      return r.v;
    case "bool":
      return String(r.v);
    case "num":
      return String(r.v);
  }
}

function refEval(t: Tree, m: Model): boolean {
  const val = (o: Operand): Ref => o.kind === "lit" ? o.value : o.read(m);
  switch (t.kind) {
    case "const":
      return t.value;
    case "cmp":
      return refCompare(val(t.left), val(t.right), t.op);
    case "fn": {
      const v = val(t.arg);
      if (t.name === "IsString") return v.t === "str";
      if (t.name === "IsInt") return v.t === "num" && v.int;
      if (t.name === "IsMatch") return refText(v)?.startsWith(t.extra) ?? false;
      if (v.t !== "str") throw new RefError();
      return v.v.startsWith(t.extra);
    }
    case "not":
      return !refEval(t.inner, m);
    case "and":
      return t.terms.every((x) => refEval(x, m));
    case "or":
      return t.terms.some((x) => refEval(x, m));
  }
}

/** The condition with every path named by its context, as `log_conditions` wants them. */
function withContextNames(text: string, newerScopeName: boolean): string {
  const logged = text.replace(
    /(?<![\w.])(attributes|body|severity_number|severity_text)\b/g,
    "log.$1",
  );
  return newerScopeName ? logged.replaceAll("instrumentation_scope.name", "scope.name") : logged;
}

function operands(t: Tree): Operand[] {
  switch (t.kind) {
    case "cmp":
      return [t.left, t.right];
    case "fn":
      return [t.arg];
    case "not":
      return operands(t.inner);
    case "and":
    case "or":
      return t.terms.flatMap(operands);
    case "const":
      return [];
  }
}

/**
 * Where upstream's inference puts a condition written with context names: the log context
 * when a log path or a severity enum is used, else the one context its paths name; no path,
 * or resource and scope paths together, cannot be placed.
 */
function expectedPlacement(t: Tree): "log" | "resource" | "scope" | "none" {
  const ops = operands(t);
  const paths = ops.filter((o) => o.kind === "path").map((o) => o.text);
  if (paths.length === 0) return "none";
  const scope = paths.some((x) => x.startsWith("instrumentation_scope."));
  const resource = paths.some((x) => x.startsWith("resource."));
  const enums = ops.some((o) => o.kind === "lit" && o.text.startsWith("SEVERITY_NUMBER_"));
  if (
    enums ||
    paths.some((x) => !x.startsWith("instrumentation_scope.") && !x.startsWith("resource."))
  ) {
    return "log";
  }
  return scope && resource ? "none" : scope ? "scope" : "resource";
}

Deno.test("random conditions agree with the reference evaluation (seeded)", () => {
  const seed = 20261204;
  const p = new Prng(seed);
  const models = Array.from({ length: 40 }, () => randomModel(p));
  let matched = 0;
  let errors = 0;
  const placements = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const tree = randomTree(p, 0);
    const text = treeText(tree, p);
    const cond = compileCondition(text);
    // The same condition as a log_conditions group (paths named by context, context inferred).
    const group = compileConditionGroup([withContextNames(text, i % 2 === 0)], undefined);
    const placement = expectedPlacement(tree);
    assert.equal(
      group.errors.length === 0 ? group.context : "none",
      placement,
      `seed ${seed}, condition #${i}: ${text}\n${Deno.inspect(group.errors)}`,
    );
    placements.add(placement);
    const inferred = group.conditions[0]?.eval;
    for (const m of models) {
      const ctx: EvalContext = {
        resource: newResource(toAttributes(m.resource)),
        scope: newScope(m.scopeName),
        record: newLogRecord({
          attributes: toAttributes(m.attributes),
          body: toAny(m.body),
          severityNumber: m.severity,
          severityText: m.severityText,
        }),
        client: undefined,
      };
      let want: boolean | "error";
      try {
        want = refEval(tree, m);
      } catch (err) {
        if (!(err instanceof RefError)) throw err;
        want = "error";
      }
      let got: boolean | "error";
      try {
        got = cond(ctx);
      } catch (err) {
        if (!(err instanceof OttlEvalError)) throw err;
        got = "error";
      }
      assert.equal(got, want, `seed ${seed}, condition #${i}: ${text}\nrecord: ${Deno.inspect(m)}`);
      if (inferred !== undefined) {
        let viaGroup: boolean | "error";
        try {
          viaGroup = inferred(ctx);
        } catch (err) {
          if (!(err instanceof OttlEvalError)) throw err;
          viaGroup = "error";
        }
        assert.equal(viaGroup, want, `seed ${seed}, log_conditions #${i}: ${text}`);
      }
      if (got === true) matched++;
      if (got === "error") errors++;
    }
  }
  // The generator must exercise both answers and the error path, or the test proves little.
  assert.ok(matched > 3000 && matched < 21000, `matched ${matched}`);
  assert.ok(errors > 100, `errors ${errors}`);
  assert.deepEqual([...placements].sort(), ["log", "none", "resource", "scope"]);
});
