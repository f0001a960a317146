import assert from "node:assert/strict";
import { newEntry } from "./entry.ts";
import { compileExpr, type Expr } from "./expr.ts";

function expr(src: string): Expr {
  const c = compileExpr(src);
  if (c instanceof Error) throw c;
  return c;
}

const entry = (body: string, p?: string) => {
  const e = newEntry(body, 1n);
  if (p !== undefined) e.attributes.p = p;
  return e;
};

Deno.test("matches takes Go regex syntax: inline flags, \\z, \\A, (?P<name>), POSIX classes", () => {
  assert.equal(expr('body matches "(?i)error"')(entry("Some ERROR here")), true);
  assert.equal(expr('body matches "(?i)error"')(entry("all fine")), false);
  assert.equal(expr('body matches "done\\\\z"')(entry("job done")), true);
  assert.equal(expr('body matches "done\\\\z"')(entry("done\nmore")), false);
  assert.equal(expr('body matches "\\\\Astart"')(entry("start x")), true);
  assert.equal(expr('body matches "^(?P<lvl>[[:upper:]]+) "')(entry("WARN x")), true);
  assert.equal(expr('body matches "a(?i)b|c"')(entry("C")), true);
  assert.equal(expr('body matches "a(?i)b|c"')(entry("AB")), false);
});

Deno.test("a literal pattern Go rejects is a compile error naming it", () => {
  for (const bad of ['body matches "(unclosed"', 'body matches "(?=x)"', 'body matches "\\\\1"']) {
    const c = compileExpr(bad);
    assert.ok(c instanceof Error, bad);
    assert.match(c.message, /Invalid Go regular expression/);
  }
});

Deno.test("a pattern taken from the entry is translated too; a bad one throws an Error each time", () => {
  const m = expr("body matches attributes.p");
  assert.equal(m(entry("Some ERROR", "(?i)error")), true);
  assert.equal(m(entry("Some ERROR", "error")), false);
  for (let i = 0; i < 2; i++) {
    assert.throws(() => m(entry("x", "(bad")), /matches: Invalid Go regular expression "\(bad"/);
  }
  // A pattern concatenated from a literal is a runtime pattern as well.
  assert.equal(expr('body matches "(?i)" + attributes.p')(entry("ERROR", "error")), true);
});

Deno.test("a runtime pattern is compiled once, not per entry", () => {
  const Orig = globalThis.RegExp;
  let built = 0;
  globalThis.RegExp = new Proxy(Orig, {
    construct(target, args, newTarget) {
      built++;
      return Reflect.construct(target, args, newTarget);
    },
  });
  try {
    const m = expr("body matches attributes.p");
    for (let i = 0; i < 100; i++) assert.equal(m(entry(`x${i}`, "^x\\d+$")), true);
    assert.equal(built, 1);
  } finally {
    globalThis.RegExp = Orig;
  }
});

Deno.test("past the cache size (oldest evicted), each entry is still matched against its own pattern", () => {
  const m = expr("body matches attributes.p");
  // Far more distinct patterns than the cache holds: each still answers right.
  for (let i = 0; i < 500; i++) {
    assert.equal(m(entry(`id-${i}`, `^id-${i}$`)), true);
    assert.equal(m(entry(`id-${i + 1}`, `^id-${i}$`)), false);
  }
});
