/**
 * Compiles a parsed condition once into a tree of closures; evaluating it per record reads
 * the record in place and allocates nothing (except where a converter builds a string).
 *
 * @module
 */

import { SeverityNumber } from "../../core/pdata/logs.ts";
import { compileCall } from "./functions.ts";
import { OttlSyntaxError } from "./lexer.ts";
import { type BoolNode, parseCondition, type ValueNode } from "./parser.ts";
import {
  compilePath,
  compilePrefixedPath,
  type ConditionContext,
  type EvalContext,
  type Getter,
  type OttlContextName,
  type PathNode,
  requestGetter,
  type RequestPath,
} from "./paths.ts";
import { compareValues, OttlEvalError, type Value } from "./values.ts";

/** A compiled condition: true when the record matches; throws `OttlEvalError` on a bad value. */
export type Condition = (ctx: EvalContext) => boolean;

const ENUMS: ReadonlyMap<string, bigint> = new Map(
  Object.entries(SeverityNumber).map(([name, n]) => [`SEVERITY_NUMBER_${name}`, BigInt(n)]),
);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function compileLiteral(node: ValueNode & { type: "literal" }): Value {
  switch (node.kind) {
    case "string":
      return node.text;
    case "bool":
      return node.text === "true";
    case "nil":
      return null;
    case "float":
      return Number(node.text);
    case "int": {
      const n = BigInt(node.text);
      if (n < INT64_MIN || n > INT64_MAX) {
        throw new OttlSyntaxError(`The number ${node.text} does not fit in an int64`, node.col);
      }
      return n;
    }
    case "bytes": {
      if (node.text.length === 0 || node.text.length % 2 !== 0) {
        throw new OttlSyntaxError(
          "A bytes literal needs an even, non-zero number of hex digits",
          node.col,
        );
      }
      const bytes = new Uint8Array(node.text.length / 2);
      for (let i = 0; i < bytes.length; i++) {
        bytes[i] = parseInt(node.text.slice(i * 2, i * 2 + 2), 16);
      }
      return { kind: "bytes", value: bytes };
    }
  }
}

/** How a compiler reads paths and enums in its context. */
interface ContextRules {
  /** The context's name, for messages. */
  readonly name: string;
  /** Whether the `SEVERITY_NUMBER_*` enums exist (the log context only). */
  readonly enums: boolean;
  path(node: PathNode): Getter | RequestPath;
}

class Compiler {
  constructor(readonly rules: ContextRules) {}

  value(node: ValueNode): Getter | RequestPath {
    switch (node.type) {
      case "literal": {
        const v = compileLiteral(node);
        return () => v;
      }
      case "enum": {
        const v = this.rules.enums ? ENUMS.get(node.name) : undefined;
        if (v === undefined) {
          throw new OttlSyntaxError(
            `Unknown enum "${node.name}"${
              this.rules.enums
                ? " (supported: SEVERITY_NUMBER_UNSPECIFIED … SEVERITY_NUMBER_FATAL4)"
                : ` in the ${this.rules.name} context`
            }`,
            node.col,
          );
        }
        return () => v;
      }
      case "path":
        return this.rules.path(node);
      case "call":
        return compileCall(node, (arg) => this.getter(arg)).get;
      case "list":
        throw new OttlSyntaxError(
          "A list is only allowed as the first argument of Concat",
          node.col,
        );
    }
  }

  /** A value where a `request["…"]` path reads its first value. */
  getter(node: ValueNode): Getter {
    const v = this.value(node);
    return typeof v === "function" ? v : requestGetter(v.key);
  }

  bool(node: BoolNode): Condition {
    switch (node.type) {
      case "or": {
        const terms = node.terms.map((t) => this.bool(t));
        return (ctx) => {
          for (let i = 0; i < terms.length; i++) if (terms[i]!(ctx)) return true;
          return false;
        };
      }
      case "and": {
        const terms = node.terms.map((t) => this.bool(t));
        return (ctx) => {
          for (let i = 0; i < terms.length; i++) if (!terms[i]!(ctx)) return false;
          return true;
        };
      }
      case "not": {
        const inner = this.bool(node.expr);
        return (ctx) => !inner(ctx);
      }
      case "bool": {
        const v = node.value;
        return () => v;
      }
      case "converter": {
        const { get, result } = compileCall(node.call, (arg) => this.getter(arg));
        if (result !== "bool") {
          throw new OttlSyntaxError(
            `${node.call.name} returns ${result}, not a boolean: compare it with a value`,
            node.call.col,
          );
        }
        return (ctx) => {
          const v = get(ctx);
          if (typeof v !== "boolean") {
            throw new OttlEvalError(`${node.call.name} did not return a boolean`);
          }
          return v;
        };
      }
      case "compare":
        return this.compare(node);
    }
  }

  compare(node: BoolNode & { type: "compare" }): Condition {
    const op = node.op;
    const left = this.value(node.left);
    const right = this.value(node.right);
    const lReq = typeof left !== "function";
    const rReq = typeof right !== "function";
    if ((op === "==" || op === "!=") && lReq !== rReq) {
      // As upstream's routing: true when ANY value of the metadata key compares true;
      // a request without the key matches neither == nor !=.
      const key = (lReq ? left : right as RequestPath).key;
      const other = (lReq ? right : left) as Getter;
      return (ctx) => {
        const values = ctx.client?.metadata?.get(key);
        if (values === undefined) return false;
        const o = other(ctx);
        for (let i = 0; i < values.length; i++) if (compareValues(values[i]!, o, op)) return true;
        return false;
      };
    }
    const l = lReq ? requestGetter(left.key) : left;
    const r = rReq ? requestGetter(right.key) : right;
    return (ctx) => compareValues(l(ctx), r(ctx), op);
  }
}

/**
 * Parses and compiles one condition for `context`. Throws {@linkcode OttlSyntaxError} (with
 * the column) for a syntax error or an unsupported path, function or enum.
 */
export function compileCondition(text: string, context: OttlContextName = "log"): Condition {
  return new Compiler({
    name: context,
    enums: context === "log",
    path: (node) => compilePath(node, context),
  }).bool(parseCondition(text));
}

/**
 * Compiles a parsed condition whose paths name their context (`log.body`,
 * `resource.attributes["k"]`), for `context`. With `prepend`, a path without a context name
 * is read in `context` (a group whose `context` is written). Throws
 * {@linkcode OttlSyntaxError} with the column for anything unsupported.
 */
export function compileContextCondition(
  tree: BoolNode,
  context: ConditionContext,
  prepend: boolean,
): Condition {
  return new Compiler({
    name: context,
    enums: context === "log",
    path: (node) => compilePrefixedPath(node, context, prepend),
  }).bool(tree);
}
