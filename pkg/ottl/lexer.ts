/**
 * Splits an OTTL condition into tokens, each with the 1-based column it starts at, so every
 * error can say where in the condition it is.
 *
 * @module
 */

/** What a token is. */
export type TokenKind =
  | "string"
  | "int"
  | "float"
  | "bytes"
  | "ident"
  | "op"
  | "punct"
  | "eof";

/** One token of a condition. */
export interface Token {
  readonly kind: TokenKind;
  /** The text as written (strings: already unquoted). */
  readonly text: string;
  /** 1-based column of the first character. */
  readonly col: number;
}

/** A condition that cannot be parsed or compiled; `col` is where in the condition. */
export class OttlSyntaxError extends Error {
  /** 1-based column in the condition. */
  readonly col: number;

  /** Builds the error; the message gets "at column N" appended. */
  constructor(message: string, col: number) {
    super(`${message} at column ${col}`);
    this.name = "OttlSyntaxError";
    this.col = col;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  "'": "'",
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
};

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && (c === "_" || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));
}

function isIdentPart(c: string | undefined): boolean {
  return isIdentStart(c) || isDigit(c);
}

/** Reads a double-quoted string starting at `start`; returns its value and the end index. */
function readString(src: string, start: number): { value: string; end: number } {
  let out = "";
  let i = start + 1;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"') return { value: out, end: i + 1 };
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    const e = src[i + 1];
    if (e === undefined) break;
    if (e in ESCAPES) {
      out += ESCAPES[e];
      i += 2;
    } else if (e === "u" || e === "x" || e === "U") {
      const len = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = src.slice(i + 2, i + 2 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) {
        throw new OttlSyntaxError(`Invalid \\${e} escape in string`, i + 1);
      }
      out += String.fromCodePoint(parseInt(hex, 16));
      i += 2 + len;
    } else {
      throw new OttlSyntaxError(`Invalid escape "\\${e}" in string`, i + 1);
    }
  }
  throw new OttlSyntaxError("Unterminated string", start + 1);
}

/** Splits `src` into tokens; throws {@linkcode OttlSyntaxError} on a character it cannot read. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const col = i + 1;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (c === '"') {
      const { value, end } = readString(src, i);
      out.push({ kind: "string", text: value, col });
      i = end;
    } else if (c === "0" && (src[i + 1] === "x" || src[i + 1] === "X")) {
      let j = i + 2;
      while (/[0-9a-fA-F]/.test(src[j] ?? "")) j++;
      out.push({ kind: "bytes", text: src.slice(i + 2, j), col });
      i = j;
    } else if (
      isDigit(c) || ((c === "-" || c === "+") && (isDigit(src[i + 1]) || src[i + 1] === ".")) ||
      (c === "." && isDigit(src[i + 1]))
    ) {
      const m = /^[-+]?(?:\d*\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)/.exec(src.slice(i))!;
      const text = m[0];
      const isFloat = /[.eE]/.test(text);
      out.push({ kind: isFloat ? "float" : "int", text, col });
      i += text.length;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (isIdentPart(src[j])) j++;
      out.push({ kind: "ident", text: src.slice(i, j), col });
      i = j;
    } else if ("=!<>".includes(c)) {
      const two = src.slice(i, i + 2);
      if (two === "==" || two === "!=" || two === "<=" || two === ">=") {
        out.push({ kind: "op", text: two, col });
        i += 2;
      } else if (c === "<" || c === ">") {
        out.push({ kind: "op", text: c, col });
        i++;
      } else {
        throw new OttlSyntaxError(`Unexpected "${c}" (comparisons are ==, !=, <, <=, >, >=)`, col);
      }
    } else if ("()[].,{}:+-*/".includes(c)) {
      out.push({ kind: "punct", text: c, col });
      i++;
    } else {
      throw new OttlSyntaxError(`Unexpected character ${JSON.stringify(c)}`, col);
    }
  }
  out.push({ kind: "eof", text: "", col: src.length + 1 });
  return out;
}
