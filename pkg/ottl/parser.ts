/**
 * The grammar of OTTL conditions, as upstream's `pkg/ottl` grammar restricted to what
 * conditions use: `or` of `and` of optionally negated comparisons, boolean literals,
 * converter calls and parenthesised groups. Values are literals, paths with `[key]` indexes,
 * enums, converter calls and list literals. Arithmetic, map literals and editors are
 * rejected with the column they start at.
 *
 * @module
 */

import { OttlSyntaxError, type Token, tokenize } from "./lexer.ts";

/** A comparison operator. */
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** A `[key]` index: a string for maps, a whole number for lists. */
export type PathKey = string | number;

/** A value expression. */
export type ValueNode =
  | {
    readonly type: "literal";
    readonly kind: "string" | "int" | "float" | "bool" | "nil" | "bytes";
    readonly text: string;
    readonly col: number;
  }
  | {
    readonly type: "path";
    /** The dotted field names, e.g. `["resource", "attributes"]`. */
    readonly fields: readonly string[];
    readonly keys: readonly PathKey[];
    readonly col: number;
  }
  | { readonly type: "enum"; readonly name: string; readonly col: number }
  | {
    readonly type: "call";
    readonly name: string;
    readonly args: readonly ValueNode[];
    readonly col: number;
  }
  | { readonly type: "list"; readonly items: readonly ValueNode[]; readonly col: number };

/** A boolean expression. */
export type BoolNode =
  | { readonly type: "or" | "and"; readonly terms: readonly BoolNode[] }
  | { readonly type: "not"; readonly expr: BoolNode; readonly col: number }
  | {
    readonly type: "compare";
    readonly op: CompareOp;
    readonly left: ValueNode;
    readonly right: ValueNode;
    readonly col: number;
  }
  | { readonly type: "bool"; readonly value: boolean; readonly col: number }
  | { readonly type: "converter"; readonly call: ValueNode & { type: "call" } };

const KEYWORDS = new Set(["and", "or", "not"]);

class Parser {
  #tokens: Token[];
  #i = 0;

  constructor(src: string) {
    this.#tokens = tokenize(src);
  }

  get #tok(): Token {
    return this.#tokens[this.#i]!;
  }

  #peek(offset = 1): Token {
    return this.#tokens[Math.min(this.#i + offset, this.#tokens.length - 1)]!;
  }

  #next(): Token {
    const t = this.#tok;
    if (t.kind !== "eof") this.#i++;
    return t;
  }

  #atEnd(): boolean {
    return this.#tok.kind === "eof";
  }

  #isPunct(text: string): boolean {
    return this.#tok.kind === "punct" && this.#tok.text === text;
  }

  #isWord(text: string): boolean {
    return this.#tok.kind === "ident" && this.#tok.text === text;
  }

  #expectPunct(text: string, what: string): void {
    if (!this.#isPunct(text)) throw this.#unexpected(`expected "${text}" ${what}`);
    this.#next();
  }

  #unexpected(expected: string): OttlSyntaxError {
    const t = this.#tok;
    if (t.kind === "punct" && "+-*/".includes(t.text)) {
      return new OttlSyntaxError(
        `Arithmetic ("${t.text}") is not supported in conditions by this collector`,
        t.col,
      );
    }
    const found = t.kind === "eof"
      ? "end of the condition"
      : t.kind === "string"
      ? `string ${JSON.stringify(t.text)}`
      : `"${t.text}"`;
    return new OttlSyntaxError(`Unexpected ${found}: ${expected}`, t.col);
  }

  parseCondition(): BoolNode {
    if (this.#atEnd()) throw new OttlSyntaxError("The condition is empty", 1);
    const expr = this.#parseOr();
    if (!this.#atEnd()) {
      throw this.#unexpected('expected "and", "or" or the end of the condition');
    }
    return expr;
  }

  #parseOr(): BoolNode {
    const terms = [this.#parseAnd()];
    while (this.#isWord("or")) {
      this.#next();
      terms.push(this.#parseAnd());
    }
    return terms.length === 1 ? terms[0]! : { type: "or", terms };
  }

  #parseAnd(): BoolNode {
    const terms = [this.#parseNot()];
    while (this.#isWord("and")) {
      this.#next();
      terms.push(this.#parseNot());
    }
    return terms.length === 1 ? terms[0]! : { type: "and", terms };
  }

  #parseNot(): BoolNode {
    if (this.#isWord("not")) {
      const col = this.#next().col;
      return { type: "not", expr: this.#parseBoolValue(), col };
    }
    return this.#parseBoolValue();
  }

  /** A comparison, a boolean literal, a converter, or a parenthesised expression. */
  #parseBoolValue(): BoolNode {
    if (this.#isPunct("(")) {
      this.#next();
      const inner = this.#parseOr();
      this.#expectPunct(")", "to close the group");
      return inner;
    }
    if (this.#isWord("not")) throw this.#unexpected('"not" cannot follow "not"; use parentheses');
    const left = this.#parseValue();
    if (this.#tok.kind === "op") {
      const op = this.#next();
      const right = this.#parseValue();
      return { type: "compare", op: op.text as CompareOp, left, right, col: op.col };
    }
    if (left.type === "literal" && left.kind === "bool") {
      return { type: "bool", value: left.text === "true", col: left.col };
    }
    if (left.type === "call") return { type: "converter", call: left };
    throw this.#unexpected("expected a comparison operator (==, !=, <, <=, >, >=)");
  }

  #parseValue(): ValueNode {
    const t = this.#tok;
    switch (t.kind) {
      case "string":
      case "int":
      case "float":
      case "bytes":
        this.#next();
        return { type: "literal", kind: t.kind, text: t.text, col: t.col };
      case "ident":
        return this.#parseIdentValue();
      case "punct":
        if (t.text === "[") return this.#parseList();
        if (t.text === "{") {
          throw new OttlSyntaxError("Map literals are not supported by this collector", t.col);
        }
        break;
    }
    throw this.#unexpected("expected a value (a literal, a path, an enum or a converter)");
  }

  #parseIdentValue(): ValueNode {
    const t = this.#tok;
    if (t.text === "true" || t.text === "false") {
      this.#next();
      return { type: "literal", kind: "bool", text: t.text, col: t.col };
    }
    if (t.text === "nil") {
      this.#next();
      return { type: "literal", kind: "nil", text: t.text, col: t.col };
    }
    if (KEYWORDS.has(t.text)) throw this.#unexpected("expected a value");
    const upper = t.text[0]! >= "A" && t.text[0]! <= "Z";
    if (this.#peek().kind === "punct" && this.#peek().text === "(") {
      if (!upper) {
        throw new OttlSyntaxError(
          `"${t.text}" is an editor (a lower-case function); conditions can only call converters`,
          t.col,
        );
      }
      return this.#parseCall();
    }
    if (upper) {
      this.#next();
      return { type: "enum", name: t.text, col: t.col };
    }
    return this.#parsePath();
  }

  #parseCall(): ValueNode & { type: "call" } {
    const name = this.#next();
    this.#next(); // "("
    const args: ValueNode[] = [];
    if (!this.#isPunct(")")) {
      for (;;) {
        args.push(this.#parseValue());
        if (!this.#isPunct(",")) break;
        this.#next();
      }
    }
    this.#expectPunct(")", `to close the arguments of ${name.text}`);
    return { type: "call", name: name.text, args, col: name.col };
  }

  #parseList(): ValueNode {
    const col = this.#next().col;
    const items: ValueNode[] = [];
    if (!this.#isPunct("]")) {
      for (;;) {
        items.push(this.#parseValue());
        if (!this.#isPunct(",")) break;
        this.#next();
      }
    }
    this.#expectPunct("]", "to close the list");
    return { type: "list", items, col };
  }

  #parsePath(): ValueNode {
    const col = this.#tok.col;
    const fields = [this.#next().text];
    while (this.#isPunct(".")) {
      this.#next();
      if (this.#tok.kind !== "ident") throw this.#unexpected('expected a field name after "."');
      fields.push(this.#next().text);
    }
    const keys: PathKey[] = [];
    while (this.#isPunct("[")) {
      this.#next();
      const k = this.#tok;
      if (k.kind === "string") keys.push(k.text);
      else if (k.kind === "int" && !k.text.startsWith("-")) keys.push(Number(k.text));
      else {
        throw this.#unexpected(
          "expected a string or a non-negative whole number as key (keys from paths or converters are not supported by this collector)",
        );
      }
      this.#next();
      this.#expectPunct("]", "to close the key");
    }
    return { type: "path", fields, keys, col };
  }
}

/** Parses one condition into its syntax tree; throws {@linkcode OttlSyntaxError}. */
export function parseCondition(src: string): BoolNode {
  return new Parser(src).parseCondition();
}
