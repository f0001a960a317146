/**
 * The converters conditions can call: `IsMatch`, `IsString`, `IsInt`, `Len`, `Concat`,
 * `HasPrefix`, `HasSuffix`, with upstream's argument types and results.
 *
 * @module
 */

import { compileGoRegex } from "../../core/regex/go_regex.ts";
import { OttlSyntaxError } from "./lexer.ts";
import type { ValueNode } from "./parser.ts";
import { type Getter, int64 } from "./paths.ts";
import { OttlEvalError, toStringLike, typeName, utf8Length, type Value } from "./values.ts";

/** What a converter returns, checked when a condition is compiled. */
export type ResultType = "bool" | "int" | "string";

/** Compiles one argument to a getter. */
export type ArgCompiler = (node: ValueNode) => Getter;

interface Converter {
  /** Number of arguments. */
  readonly arity: number;
  readonly result: ResultType;
  compile(args: readonly ValueNode[], arg: ArgCompiler, name: string): Getter;
}

function stringArg(fn: string, which: string): (v: Value) => string {
  return (v) => {
    if (typeof v === "string") return v;
    throw new OttlEvalError(`${fn}: ${which} expected string but got ${typeName(v)}`);
  };
}

function stringLiteral(node: ValueNode, fn: string, which: string): string {
  if (node.type !== "literal" || node.kind !== "string") {
    throw new OttlSyntaxError(`${fn}: the ${which} must be a string literal`, node.col);
  }
  return node.text;
}

function affix(kind: "prefix" | "suffix"): Converter {
  return {
    arity: 2,
    result: "bool",
    compile(args, arg, name) {
      const target = arg(args[0]!);
      const other = arg(args[1]!);
      const asTarget = stringArg(name, "target");
      const asOther = stringArg(name, kind);
      return kind === "prefix"
        ? (ctx) => asTarget(target(ctx)).startsWith(asOther(other(ctx)))
        : (ctx) => asTarget(target(ctx)).endsWith(asOther(other(ctx)));
    },
  };
}

const CONVERTERS: Readonly<Record<string, Converter>> = {
  IsMatch: {
    arity: 2,
    result: "bool",
    compile(args, arg, name) {
      const target = arg(args[0]!);
      const pattern = stringLiteral(args[1]!, name, "pattern");
      let re: RegExp;
      try {
        re = compileGoRegex(pattern);
      } catch (err) {
        throw new OttlSyntaxError(
          `The pattern supplied to IsMatch is not a valid regexp pattern: ${
            err instanceof Error ? err.message : err
          }`,
          args[1]!.col,
        );
      }
      return (ctx) => {
        const s = toStringLike(target(ctx));
        return s !== null && re.test(s);
      };
    },
  },
  IsString: {
    arity: 1,
    result: "bool",
    compile(args, arg) {
      const target = arg(args[0]!);
      return (ctx) => typeof target(ctx) === "string";
    },
  },
  IsInt: {
    arity: 1,
    result: "bool",
    compile(args, arg) {
      const target = arg(args[0]!);
      return (ctx) => typeof target(ctx) === "bigint";
    },
  },
  Len: {
    arity: 1,
    result: "int",
    compile(args, arg) {
      const target = arg(args[0]!);
      return (ctx) => {
        const v = target(ctx);
        if (typeof v === "string") return int64(utf8Length(v));
        if (v !== null && typeof v === "object") return int64(v.value.length);
        throw new OttlEvalError(
          `Len: target arg must be of type string, []any, map[string]any, pcommon.Map, pcommon.Slice, or pcommon.Value (of type String, Map, Slice); got ${
            typeName(v)
          }`,
        );
      };
    },
  },
  Concat: {
    arity: 2,
    result: "string",
    compile(args, arg, name) {
      const list = args[0]!;
      if (list.type !== "list") {
        throw new OttlSyntaxError(`${name}: the first argument must be a list [...]`, list.col);
      }
      const items = list.items.map(arg);
      const delimiter = arg(args[1]!);
      const asDelimiter = stringArg(name, "delimiter");
      return (ctx) => {
        const d = asDelimiter(delimiter(ctx));
        let out = "";
        for (let i = 0; i < items.length; i++) {
          if (i > 0) out += d;
          out += toStringLike(items[i]!(ctx)) ?? "<nil>";
        }
        return out;
      };
    },
  },
  HasPrefix: affix("prefix"),
  HasSuffix: affix("suffix"),
};

/** The names of the supported converters, for error messages. */
export const CONVERTER_NAMES: readonly string[] = Object.keys(CONVERTERS);

/** Compiles a converter call; throws {@linkcode OttlSyntaxError} naming an unknown one. */
export function compileCall(
  node: ValueNode & { type: "call" },
  arg: ArgCompiler,
): { get: Getter; result: ResultType } {
  const conv = Object.hasOwn(CONVERTERS, node.name) ? CONVERTERS[node.name] : undefined;
  if (conv === undefined) {
    throw new OttlSyntaxError(
      `Unsupported function "${node.name}" (supported: ${CONVERTER_NAMES.join(", ")})`,
      node.col,
    );
  }
  if (node.args.length !== conv.arity) {
    throw new OttlSyntaxError(
      `${node.name} takes ${conv.arity} argument${
        conv.arity === 1 ? "" : "s"
      }, got ${node.args.length}`,
      node.col,
    );
  }
  return { get: conv.compile(node.args, arg, node.name), result: conv.result };
}
