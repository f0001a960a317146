/**
 * The subset of upstream's expression language (expr-lang) that real filelog configs use:
 * literals, field access (`body.x`, `attributes["k8s.pod.name"]`, `resource.x`, `$`),
 * `==` `!=` `<` `<=` `>` `>=`, `matches` (Go regex syntax), `contains`, `startsWith`,
 * `endsWith`, `in`, `and`/`&&`, `or`/`||`, `not`/`!`, `+` on strings and numbers, `? :`,
 * and `env("X")`. Anything else is a compile error naming the expression.
 *
 * @module
 */

import type { Entry, Value } from "./entry.ts";
import { isMap } from "./entry.ts";
import { compileGoRegex } from "../../core/regex/go_regex.ts";

/** A compiled expression. */
export type Expr = (e: Entry) => Value | undefined;

/** A config value that is a literal or `EXPR(...)`. */
export interface ValueTemplate {
  /** True when the value does not depend on the entry. */
  readonly literal: boolean;
  readonly eval: Expr;
}

type Tok =
  | { t: "num"; v: number }
  | { t: "str"; v: string }
  | { t: "id"; v: string }
  | { t: "op"; v: string };

const OPS = [
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "<",
  ">",
  "!",
  "(",
  ")",
  "[",
  "]",
  ".",
  ",",
  "+",
  "-",
  "*",
  "/",
  "%",
  "?",
  ":",
];

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      let s = "";
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\" && c !== "`") {
          const n = src[j + 1];
          s += n === "n" ? "\n" : n === "t" ? "\t" : n === "r" ? "\r" : n ?? "";
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new SyntaxError("unterminated string");
      out.push({ t: "str", v: s });
      i = j + 1;
      continue;
    }
    const num = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ t: "num", v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const id = /^[$A-Za-z_][$A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: "id", v: id[0] });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new SyntaxError(`unexpected character ${JSON.stringify(c)}`);
    out.push({ t: "op", v: op });
    i += op.length;
  }
  return out;
}

type Env = (name: string) => string | undefined;

/** How many distinct runtime patterns one `matches` keeps compiled. */
const PATTERN_CACHE_SIZE = 64;

/**
 * Patterns built from the entry (`body matches attributes.p`), compiled once each. A bad
 * pattern throws an Error the operator routes through its `on_error`.
 */
class PatternCache {
  readonly #map = new Map<string, RegExp | Error>();

  get(p: string): RegExp {
    let re = this.#map.get(p);
    if (re === undefined) {
      try {
        re = compileGoRegex(p);
      } catch (err) {
        re = new Error(`matches: ${(err as Error).message}`);
      }
      // Oldest first out: a stream of distinct patterns cannot grow the cache.
      if (this.#map.size >= PATTERN_CACHE_SIZE) this.#map.delete(this.#map.keys().next().value!);
      this.#map.set(p, re);
    }
    if (re instanceof Error) throw re;
    return re;
  }
}

class Parser {
  #toks: Tok[];
  #i = 0;
  #env: Env;
  constructor(toks: Tok[], env: Env) {
    this.#toks = toks;
    this.#env = env;
  }
  #peek(): Tok | undefined {
    return this.#toks[this.#i];
  }
  #isOp(v: string): boolean {
    const t = this.#peek();
    return t !== undefined && t.t === "op" && t.v === v;
  }
  #isWord(v: string): boolean {
    const t = this.#peek();
    return t !== undefined && t.t === "id" && t.v === v;
  }
  /** True when the token at `at` extends an operand (`"a" + x`): then it is no lone literal. */
  #continuesAfter(at: number): boolean {
    const t = this.#toks[at];
    return t !== undefined && t.t === "op" &&
      ["+", "-", "*", "/", "%", ".", "["].includes(t.v);
  }
  #expect(v: string): void {
    if (!this.#isOp(v)) throw new SyntaxError(`expected "${v}"`);
    this.#i++;
  }
  parseAll(): Expr {
    const e = this.#ternary();
    if (this.#i < this.#toks.length) {
      const t = this.#toks[this.#i]!;
      throw new SyntaxError(`unexpected ${JSON.stringify(String(t.v))}`);
    }
    return e;
  }
  #ternary(): Expr {
    const cond = this.#or();
    if (!this.#isOp("?")) return cond;
    this.#i++;
    const a = this.#ternary();
    this.#expect(":");
    const b = this.#ternary();
    return (e) => truthy(cond(e)) ? a(e) : b(e);
  }
  #or(): Expr {
    let left = this.#and();
    while (this.#isOp("||") || this.#isWord("or")) {
      this.#i++;
      const l = left, r = this.#and();
      left = (e) => truthy(l(e)) || truthy(r(e));
    }
    return left;
  }
  #and(): Expr {
    let left = this.#not();
    while (this.#isOp("&&") || this.#isWord("and")) {
      this.#i++;
      const l = left, r = this.#not();
      left = (e) => truthy(l(e)) && truthy(r(e));
    }
    return left;
  }
  #not(): Expr {
    if (this.#isOp("!") || this.#isWord("not")) {
      this.#i++;
      const x = this.#not();
      return (e) => !truthy(x(e));
    }
    return this.#cmp();
  }
  #cmp(): Expr {
    const left = this.#add();
    const t = this.#peek();
    if (t === undefined) return left;
    let op: string | undefined;
    if (t.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.v)) op = t.v;
    if (t.t === "id" && ["matches", "contains", "startsWith", "endsWith", "in"].includes(t.v)) {
      op = t.v;
    }
    if (t.t === "id" && t.v === "not" && this.#toks[this.#i + 1]?.v === "in") {
      this.#i++;
      op = "not in";
    }
    if (op === undefined) return left;
    this.#i++;
    if (op === "matches") {
      const rt = this.#peek();
      if (rt?.t === "str" && !this.#continuesAfter(this.#i + 1)) {
        // A literal pattern is compiled once, with the expression (a bad one is a config error).
        this.#i++;
        const re = compileGoRegex(rt.v);
        return (e) => {
          const v = left(e);
          return typeof v === "string" && re.test(v);
        };
      }
      const right = this.#add();
      const patterns = new PatternCache();
      return (e) => {
        const v = left(e), p = right(e);
        return typeof v === "string" && typeof p === "string" && patterns.get(p).test(v);
      };
    }
    const right = this.#add();
    switch (op) {
      case "==":
        return (e) => equal(left(e), right(e));
      case "!=":
        return (e) => !equal(left(e), right(e));
      case "<":
        return (e) => compare(left(e), right(e), (c) => c < 0);
      case "<=":
        return (e) => compare(left(e), right(e), (c) => c <= 0);
      case ">":
        return (e) => compare(left(e), right(e), (c) => c > 0);
      case ">=":
        return (e) => compare(left(e), right(e), (c) => c >= 0);
      case "contains":
        return (e) => strOp(left(e), right(e), (a, b) => a.includes(b));
      case "startsWith":
        return (e) => strOp(left(e), right(e), (a, b) => a.startsWith(b));
      case "endsWith":
        return (e) => strOp(left(e), right(e), (a, b) => a.endsWith(b));
      case "in":
        return (e) => inOp(left(e), right(e));
      default:
        return (e) => !inOp(left(e), right(e));
    }
  }
  #add(): Expr {
    let left = this.#mul();
    while (this.#isOp("+") || this.#isOp("-")) {
      const op = (this.#peek() as Tok).v;
      this.#i++;
      const l = left, r = this.#mul();
      left = (e) => {
        const a = l(e), b = r(e);
        if (op === "+" && (typeof a === "string" || typeof b === "string")) {
          return `${a ?? ""}${b ?? ""}`;
        }
        if (typeof a === "number" && typeof b === "number") return op === "+" ? a + b : a - b;
        return null;
      };
    }
    return left;
  }
  #mul(): Expr {
    let left = this.#unary();
    while (this.#isOp("*") || this.#isOp("/") || this.#isOp("%")) {
      const op = (this.#peek() as Tok).v;
      this.#i++;
      const l = left, r = this.#unary();
      left = (e) => {
        const a = l(e), b = r(e);
        if (typeof a !== "number" || typeof b !== "number") return null;
        return op === "*" ? a * b : op === "/" ? a / b : a % b;
      };
    }
    return left;
  }
  #unary(): Expr {
    if (this.#isOp("-")) {
      this.#i++;
      const x = this.#unary();
      return (e) => {
        const v = x(e);
        return typeof v === "number" ? -v : null;
      };
    }
    return this.#postfix();
  }
  #postfix(): Expr {
    let base = this.#primary();
    for (;;) {
      if (this.#isOp(".")) {
        this.#i++;
        const t = this.#peek();
        if (t?.t !== "id") throw new SyntaxError("expected a name after '.'");
        this.#i++;
        const b = base, k = t.v;
        base = (e) => member(b(e), k);
      } else if (this.#isOp("[")) {
        this.#i++;
        const idx = this.#ternary();
        this.#expect("]");
        const b = base;
        base = (e) => {
          const v = b(e), k = idx(e);
          if (Array.isArray(v) && typeof k === "number") return v[k];
          return typeof k === "string" ? member(v, k) : undefined;
        };
      } else return base;
    }
  }
  #primary(): Expr {
    const t = this.#peek();
    if (t === undefined) throw new SyntaxError("unexpected end of expression");
    this.#i++;
    if (t.t === "num" || t.t === "str") {
      const v = t.v;
      return () => v;
    }
    if (t.t === "op" && t.v === "(") {
      const e = this.#ternary();
      this.#expect(")");
      return e;
    }
    if (t.t === "op" && t.v === "[") {
      const items: Expr[] = [];
      while (!this.#isOp("]")) {
        items.push(this.#ternary());
        if (!this.#isOp("]")) this.#expect(",");
      }
      this.#i++;
      return (e) => items.map((x) => x(e) ?? null);
    }
    if (t.t !== "id") throw new SyntaxError(`unexpected ${JSON.stringify(t.v)}`);
    switch (t.v) {
      case "true":
        return () => true;
      case "false":
        return () => false;
      case "nil":
      case "null":
        return () => null;
      case "$":
      case "body":
      case "$body":
        return (e) => e.body;
      case "attributes":
      case "$attributes":
      case "attrs":
        return (e) => e.attributes;
      case "resource":
      case "$resource":
        return (e) => e.resource;
      case "timestamp":
        return (e) => e.timestamp === 0n ? null : Number(e.timestamp / 1_000_000n) / 1000;
      case "severity_text":
        return (e) => e.severityText;
      case "env": {
        this.#expect("(");
        const a = this.#peek();
        if (a?.t !== "str") throw new SyntaxError('env() takes one quoted name, e.g. env("NODE")');
        this.#i++;
        this.#expect(")");
        const v = this.#env(a.v) ?? "";
        return () => v;
      }
      default:
        throw new SyntaxError(
          `unknown name ${
            JSON.stringify(t.v)
          } (supported: body, attributes, resource, timestamp, env("X"), true, false, nil)`,
        );
    }
  }
}

function member(v: Value | undefined, k: string): Value | undefined {
  return isMap(v) ? v[k] : undefined;
}

function truthy(v: Value | undefined): boolean {
  return v === true;
}

function equal(a: Value | undefined, b: Value | undefined): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (typeof a === "bigint" || typeof b === "bigint") return Number(a) === Number(b);
  if (typeof a === "object" && a !== null) return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

function compare(a: Value | undefined, b: Value | undefined, ok: (c: number) => boolean): boolean {
  if (typeof a === "bigint") a = Number(a);
  if (typeof b === "bigint") b = Number(b);
  if (typeof a === "number" && typeof b === "number") return ok(a - b);
  if (typeof a === "string" && typeof b === "string") return ok(a < b ? -1 : a > b ? 1 : 0);
  return false;
}

function strOp(
  a: Value | undefined,
  b: Value | undefined,
  f: (a: string, b: string) => boolean,
): boolean {
  return typeof a === "string" && typeof b === "string" && f(a, b);
}

function inOp(a: Value | undefined, b: Value | undefined): boolean {
  if (Array.isArray(b)) return b.some((x) => equal(a, x));
  if (isMap(b) && typeof a === "string") return a in b;
  return false;
}

function denoEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Compiles an expression; returns an Error naming it when it is outside the supported subset. */
export function compileExpr(src: string, env: Env = denoEnv): Expr | Error {
  try {
    return new Parser(tokenize(src), env).parseAll();
  } catch (err) {
    return new Error(
      `Unsupported expression ${JSON.stringify(src)}: ${
        (err as Error).message
      }; see the filelog README for the supported subset`,
    );
  }
}

/** Compiles a config value: `EXPR(...)` is an expression, anything else a string literal. */
export function compileValueTemplate(text: string, literal: Value = text): ValueTemplate | Error {
  const m = /^EXPR\(([\s\S]*)\)$/.exec(text.trim());
  if (m === null) return { literal: true, eval: () => literal };
  const e = compileExpr(m[1]!);
  return e instanceof Error ? e : { literal: false, eval: e };
}
