/**
 * Go (RE2) regular expressions as upstream's configs write them, translated once into
 * JavaScript: `(?P<name>…)`, inline flags anywhere (`(?i)`, `(?ms)`, `(?i:…)`, `(?-s)`),
 * `\A` and `\z`, `\Q…\E`, POSIX classes, `\pL`, octal and `\x{…}` escapes, a leading `]`
 * in a class, and Go's `.` and `\s`. What Go rejects (backreferences, lookaround, `\Z`)
 * or JavaScript cannot express (`(?U)`) is a `SyntaxError`, never a silent difference.
 *
 * @module
 */

/** A Go pattern as JavaScript source and flags. */
export interface TranslatedRegex {
  readonly source: string;
  readonly flags: string;
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

interface Frame {
  /** Flags in force at this point of the group. */
  flags: Flags;
  /** Openers of `(?flags:` groups standing for mid-group `(?flags)`, closed with the group. */
  openers: string[];
}

const POSIX: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/** Unicode general categories: JavaScript takes them bare; other names are scripts. */
const CATEGORIES = new Set([
  ..."L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po".split(" "),
  ..."S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Cs Co Cn".split(" "),
]);

/** Characters JavaScript accepts escaped under the `u` flag (outside a class). */
const SYNTAX = new Set("^$\\.*+?()[]{}|/");

/** Go's `\s` is ASCII whitespace only (JavaScript's also takes \v and Unicode spaces). */
const GO_SPACE = "\\t\\n\\f\\r ";

function fail(src: string, why: string): never {
  throw new SyntaxError(`Invalid Go regular expression ${JSON.stringify(src)}: ${why}`);
}

function escapeLiteral(c: string, inClass: boolean): string {
  return SYNTAX.has(c) || (inClass && c === "-") ? `\\${c}` : c;
}

function codePointEscape(cp: number): { text: string; unicode: boolean } {
  if (cp <= 0xffff) return { text: `\\u${cp.toString(16).padStart(4, "0")}`, unicode: false };
  return { text: `\\u{${cp.toString(16)}}`, unicode: true };
}

/** Parses Go inline flags such as `i`, `ms-i`; returns undefined when `text` is not flags. */
function parseFlags(src: string, text: string): { on: string; off: string } | undefined {
  const m = /^([imsU]*)(?:-([imsU]*))?$/.exec(text);
  if (m === null) return undefined;
  const on = m[1]!, off = m[2] ?? "";
  if (on.includes("U") || off.includes("U")) {
    fail(src, "the U (ungreedy) flag is not supported: write lazy quantifiers such as .*? instead");
  }
  if (text.endsWith("-")) fail(src, "missing flags after '-'");
  return { on, off };
}

function applyFlags(f: Flags, on: string, off: string): Flags {
  const out = { ...f };
  for (const c of on) out[c as keyof Flags] = true;
  for (const c of off) out[c as keyof Flags] = false;
  return out;
}

/**
 * Translates a Go regular expression; `baseFlags` (for example `m` for multiline patterns)
 * are in force from the start. Throws a `SyntaxError` naming the pattern.
 */
export function translateGoRegex(src: string, baseFlags = ""): TranslatedRegex {
  let unicode = false;
  let out = "";
  let i = 0;
  const global: Flags = { i: baseFlags.includes("i"), m: baseFlags.includes("m"), s: false };
  if (baseFlags.includes("s")) global.s = true;
  // A leading (?flags) becomes real flags: the whole pattern is the group it applies to.
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead !== null) {
    const f = parseFlags(src, lead[1]!)!;
    Object.assign(global, applyFlags(global, f.on, ""));
    i = lead[0].length;
  }
  const stack: Frame[] = [{ flags: { ...global }, openers: [] }];
  const top = (): Frame => stack[stack.length - 1]!;

  /** Translates one escape at src[i] === "\\" (outside or inside a class); returns the text. */
  const escape = (inClass: boolean): string => {
    const c = src[i + 1];
    if (c === undefined) fail(src, "trailing backslash");
    i += 2;
    switch (c) {
      case "z":
        if (inClass) fail(src, "\\z is not allowed in a character class");
        return top().flags.m ? "(?![\\s\\S])" : "$";
      case "A":
        if (inClass) fail(src, "\\A is not allowed in a character class");
        return top().flags.m ? "(?<![\\s\\S])" : "^";
      case "Z":
        return fail(src, "\\Z is not supported in Go: use \\z for the end of the text");
      case "a":
        return "\\x07";
      case "s":
        return inClass ? GO_SPACE : `[${GO_SPACE}]`;
      case "S":
        return inClass ? "\\S" : `[^${GO_SPACE}]`;
      case "Q": {
        const endQ = src.indexOf("\\E", i);
        const lit = src.slice(i, endQ < 0 ? src.length : endQ);
        i = endQ < 0 ? src.length : endQ + 2;
        return [...lit].map((x) => escapeLiteral(x, inClass)).join("");
      }
      case "E":
        return ""; // a stray \E ends nothing, as in Go
      case "p":
      case "P": {
        let name: string;
        if (src[i] === "{") {
          const close = src.indexOf("}", i);
          if (close < 0) fail(src, `missing } after \\${c}{`);
          name = src.slice(i + 1, close);
          i = close + 1;
        } else {
          name = src[i] ?? "";
          i++;
          if (name === "") fail(src, `missing class name after \\${c}`);
        }
        let neg = c === "P";
        if (name.startsWith("^")) {
          neg = !neg;
          name = name.slice(1);
        }
        unicode = true;
        if (name === "Any") return neg ? "[^\\s\\S]" : "[\\s\\S]";
        const body = CATEGORIES.has(name) ? name : `Script=${name}`;
        return `\\${neg ? "P" : "p"}{${body}}`;
      }
      case "x": {
        if (src[i] === "{") {
          const close = src.indexOf("}", i);
          const hex = close < 0 ? "" : src.slice(i + 1, close);
          if (!/^[0-9A-Fa-f]{1,6}$/.test(hex)) fail(src, "invalid \\x{...} escape");
          i = close + 1;
          const r = codePointEscape(parseInt(hex, 16));
          unicode ||= r.unicode;
          return r.text;
        }
        const hex = src.slice(i, i + 2);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) fail(src, "\\x needs two hex digits or {...}");
        i += 2;
        return `\\x${hex}`;
      }
      default:
        break;
    }
    if (c >= "0" && c <= "7") {
      // Go reads \0 and \NN[N] as octal; a single \1-\7 would be a backreference.
      const m = /^[0-7]{0,2}/.exec(src.slice(i))![0];
      if (c !== "0" && m === "") fail(src, `backreferences such as \\${c} are not supported in Go`);
      i += m.length;
      return codePointEscape(parseInt(c + m, 8)).text;
    }
    if (c === "8" || c === "9") fail(src, `invalid escape \\${c}`);
    if (/[A-Za-z]/.test(c)) {
      if (!"bBdDwWfnrtv".includes(c) || (inClass && (c === "b" || c === "B"))) {
        fail(src, `invalid escape \\${c}`);
      }
      return `\\${c}`;
    }
    // Escaped punctuation is literal in Go; keep only escapes JavaScript accepts under `u`.
    return escapeLiteral(c, inClass);
  };

  const klass = (): string => {
    // src[i] === "["
    let s = "[";
    i++;
    if (src[i] === "^") {
      s += "^";
      i++;
    }
    if (src[i] === "]") {
      s += "\\]"; // a leading ] is a literal in Go
      i++;
    }
    for (;;) {
      const c = src[i];
      if (c === undefined) fail(src, "missing closing ]");
      if (c === "]") {
        i++;
        return s + "]";
      }
      if (c === "[" && src[i + 1] === ":") {
        const close = src.indexOf(":]", i + 2);
        const name = close < 0 ? "" : src.slice(i + 2, close);
        if (name.startsWith("^")) fail(src, `negated POSIX class [:${name}:] is not supported`);
        const set = POSIX[name];
        if (set === undefined) fail(src, `unknown POSIX class [:${name}:]`);
        s += set;
        i = close + 2;
        continue;
      }
      if (c === "\\") {
        s += escape(true);
        continue;
      }
      s += c === "[" ? "\\[" : c;
      i++;
    }
  };

  while (i < src.length) {
    const c = src[i]!;
    const f = top();
    if (c === "\\") {
      out += escape(false);
      continue;
    }
    if (c === "[") {
      out += klass();
      continue;
    }
    if (c === "(") {
      if (src[i + 1] !== "?") {
        out += "(";
        i++;
        stack.push({ flags: { ...f.flags }, openers: [] });
        continue;
      }
      const rest = src.slice(i + 2);
      const named = /^P?<([A-Za-z0-9_]+)>/.exec(rest);
      if (named !== null) {
        out += `(?<${named[1]}>`;
        i += 2 + named[0].length;
        stack.push({ flags: { ...f.flags }, openers: [] });
        continue;
      }
      if (/^(?:=|!|<=|<!)/.test(rest)) {
        fail(src, "lookahead and lookbehind are not supported in Go");
      }
      const fm = /^([a-zA-Z-]*)([:)])/.exec(rest);
      const flags = fm === null ? undefined : parseFlags(src, fm[1]!);
      if (fm === null || flags === undefined || (fm[1] === "" && fm[2] === ")")) {
        fail(src, "invalid or unsupported (?...) group");
      }
      i += 2 + fm[0].length;
      const { on, off } = flags;
      const opener = on === "" && off === "" ? "(?:" : `(?${on}${off ? `-${off}` : ""}:`;
      if (fm[2] === ":") {
        out += opener;
        stack.push({ flags: applyFlags(f.flags, on, off), openers: [] });
      } else if (opener !== "(?:") {
        // (?flags) mid-group: applies to the rest of the group, across its alternatives.
        out += opener;
        f.openers.push(opener);
        f.flags = applyFlags(f.flags, on, off);
      }
      continue;
    }
    if (c === ")") {
      if (stack.length === 1) fail(src, "unexpected )");
      out += ")".repeat(f.openers.length) + ")";
      stack.pop();
      i++;
      continue;
    }
    if (c === "|") {
      out += ")".repeat(f.openers.length) + "|" + f.openers.join("");
      i++;
      continue;
    }
    if (c === ".") {
      out += f.flags.s ? "[\\s\\S]" : "[^\\n]"; // Go's . takes \r (JavaScript's does not)
      i++;
      continue;
    }
    if (c === "{") {
      const q = /^\{\d+(?:,\d*)?\}/.exec(src.slice(i));
      if (q !== null) {
        out += q[0];
        i += q[0].length;
      } else {
        out += "\\{"; // not a repetition: a literal in Go
        i++;
      }
      continue;
    }
    if (c === "}" || c === "]") {
      out += `\\${c}`;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  if (stack.length > 1) fail(src, "missing closing )");
  out += ")".repeat(top().openers.length);
  let flags = "";
  if (global.i) flags += "i";
  if (global.m) flags += "m";
  if (global.s) flags += "s";
  if (unicode) flags += "u";
  return { source: out, flags };
}

/**
 * Compiles a Go regular expression; `extraFlags` such as `g`, `m` or `y` are added.
 * Throws a `SyntaxError` that names the pattern.
 */
export function compileGoRegex(src: string, extraFlags = ""): RegExp {
  const t = translateGoRegex(src, extraFlags.replace(/[^ims]/g, ""));
  const flags = [...new Set(t.flags + extraFlags)].join("");
  try {
    return new RegExp(t.source, flags);
  } catch (err) {
    return fail(src, (err as Error).message.replace(/^Invalid regular expression: /, ""));
  }
}

/** True when a compiled pattern has at least one named capture group. */
export function hasNamedGroup(re: RegExp): boolean {
  return /\(\?<[A-Za-z_$]/.test(re.source);
}
