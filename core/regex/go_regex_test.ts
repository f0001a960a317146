import assert from "node:assert/strict";
import { compileGoRegex, hasNamedGroup, translateGoRegex } from "./go_regex.ts";

const go = (src: string, flags = ""): RegExp => compileGoRegex(src, flags);

Deno.test("a leading (?i)/(?s)/(?m) becomes flags, also on top of the multiline 'gm'", () => {
  assert.deepEqual(translateGoRegex("(?i)^start"), { source: "^start", flags: "i" });
  const ml = go("(?i)^start", "gm");
  assert.equal(ml.flags, "gim");
  assert.equal(ml.test("log\nSTART here"), true);
  assert.equal(go("(?s)a.b").test("a\nb"), true);
  assert.equal(go("a.b").test("a\nb"), false);
  assert.equal(go("(?m)^b$").test("a\nb\nc"), true);
});

Deno.test("inline flags mid-pattern apply to the rest of their group, across alternatives", () => {
  assert.equal(go("a(?i)b|c").test("C"), true);
  assert.equal(go("a(?i)b|c").test("aB"), true);
  assert.equal(go("a(?i)b|c").test("AB"), false);
  assert.equal(go("(a(?i)b)c").test("aBc"), true);
  assert.equal(go("(a(?i)b)c").test("aBC"), false);
  assert.equal(go("(?i:ab)c").test("ABc"), true);
  assert.equal(go("(?i:ab)c").test("ABC"), false);
  assert.equal(go("(?i)a(?-i:b)").test("AB"), false);
  assert.equal(go("(?i)a(?-i:b)").test("Ab"), true);
});

Deno.test("\\z is the end of the text and \\A its start, with or without multiline mode", () => {
  for (const flags of ["", "gm"]) {
    assert.equal(go("done\\z", flags).test("job done"), true, flags);
    assert.equal(go("done\\z", flags).test("done\nmore"), false, flags);
    assert.equal(go("\\Astart", flags).test("start"), true, flags);
    assert.equal(go("\\Astart", flags).test("x\nstart"), false, flags);
  }
});

Deno.test("Go spellings: (?P<name>), POSIX classes, \\pL, \\Q..\\E, octal, \\x{..}, a leading ] in a class", () => {
  const m = go("(?P<lvl>[[:upper:]]+) (?P<rest>.*)").exec("WARN disk full");
  assert.deepEqual({ ...m!.groups }, { lvl: "WARN", rest: "disk full" });
  assert.ok(hasNamedGroup(go("(?P<x>a)")));
  assert.ok(!hasNamedGroup(go("(a)\\Ab")));
  assert.equal(go("^\\pL+$").test("Grüße"), true);
  assert.equal(go("^\\p{Greek}+$").test("αβγ"), true);
  assert.equal(go("\\Q1+1=2\\E").test("1+1=2"), true);
  assert.equal(go("\\Q1+1=2\\E").test("11=2"), false);
  assert.equal(go("\\101").test("A"), true); // octal
  assert.equal(go("\\x{263A}").test("☺"), true);
  assert.equal(go("\\x{1F600}").test("😀"), true);
  assert.equal(go("^[]a]+$").test("]a]"), true);
  assert.equal(go("a{").test("a{"), true); // not a repetition: literal in Go
  assert.equal(go("\\#\\-\\:").test("#-:"), true); // escaped punctuation is literal
});

Deno.test("Go's . and \\s: . takes \\r, \\s is ASCII whitespace only", () => {
  assert.equal(go("^a.b$").test("a\rb"), true);
  assert.equal(go("a\\sb").test("a\u00a0b"), false);
  assert.equal(go("a\\sb").test("a\tb"), true);
  assert.equal(go("a\\Sb").test("a\rb"), false);
});

Deno.test("what Go rejects (or JavaScript cannot express) is a SyntaxError naming the pattern", () => {
  for (
    const [src, why] of [
      ["\\1", /backreferences/],
      ["(?=x)", /lookahead/],
      ["(?<!x)y", /lookbehind/],
      ["\\Z", /use \\z/],
      ["(?U)a+", /ungreedy/],
      ["(?x)a", /unsupported \(\?\.\.\.\) group/],
      ["(a", /missing closing \)/],
      ["a)", /unexpected \)/],
      ["[a", /missing closing \]/],
      ["[[:nope:]]", /unknown POSIX class/],
      ["a**", /Nothing to repeat|Invalid/],
    ] as const
  ) {
    assert.throws(
      () => compileGoRegex(src),
      (e: unknown) =>
        e instanceof SyntaxError && e.message.includes(JSON.stringify(src)) && why.test(e.message),
      src,
    );
  }
});
