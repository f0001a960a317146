/**
 * The paths a condition can read, per OTTL context (`log`, `resource`, `request`), each
 * compiled to a getter that reads the record without allocating.
 *
 * @module
 */

import type { ClientInfo } from "../../core/consumer.ts";
import type {
  AnyValue,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  Resource,
} from "../../core/pdata/logs.ts";
import { OttlSyntaxError } from "./lexer.ts";
import type { PathKey, ValueNode } from "./parser.ts";
import { fromAnyValue, OttlEvalError, type Value } from "./values.ts";

/**
 * What a condition is evaluated against. Callers reuse one object and overwrite its fields
 * for each record, so evaluating allocates nothing. `record` and `scope` are read only in
 * the `log` context.
 */
export interface EvalContext {
  resource: Resource;
  scope: InstrumentationScope;
  record: LogRecord;
  client: ClientInfo | undefined;
}

/** The OTTL context a condition is written for (upstream's `ottllog`, `ottlresource`). */
export type OttlContextName = "log" | "resource" | "request";

/** Reads one value for the current record. */
export type Getter = (ctx: EvalContext) => Value;

/** A compiled `request["…"]` path: the compiler gives comparisons with it "any value" semantics. */
export interface RequestPath {
  /** The metadata key, lower-cased. */
  readonly key: string;
}

// Small ints are shared, so reading a severity number or a length allocates no bigint.
const SMALL_INTS: readonly bigint[] = Array.from({ length: 1024 }, (_, i) => BigInt(i));

/** The int64 value of a small non-negative number without allocating when it is small. */
export function int64(n: number): bigint {
  return n >= 0 && n < SMALL_INTS.length && Number.isInteger(n) ? SMALL_INTS[n]! : BigInt(n);
}

function findAttribute(attrs: readonly KeyValue[], key: string): AnyValue | undefined {
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key === key) return attrs[i]!.value;
  return undefined;
}

function wrapMap(attrs: KeyValue[]): Value {
  return { kind: "kvlist", value: attrs };
}

/** Indexes into a map or list value by the remaining keys. */
function indexValue(v: AnyValue | undefined, keys: readonly PathKey[], from: number): Value {
  for (let i = from; i < keys.length; i++) {
    if (v === undefined) return null;
    const k = keys[i]!;
    if (typeof k === "string") {
      if (v.kind !== "kvlist") {
        throw new OttlEvalError(`Cannot index a ${v.kind} value with the key "${k}"`);
      }
      v = findAttribute(v.value, k);
    } else {
      if (v.kind !== "array") throw new OttlEvalError(`Cannot index a ${v.kind} value with [${k}]`);
      if (k >= v.value.length) {
        throw new OttlEvalError(
          `Index ${k} is out of range (the list has ${v.value.length} items)`,
        );
      }
      v = v.value[k];
    }
  }
  return fromAnyValue(v);
}

type MapOf = (ctx: EvalContext) => KeyValue[];

function mapGetter(node: PathNode, text: string, of: MapOf): Getter {
  const keys = node.keys;
  if (keys.length === 0) return (ctx) => wrapMap(of(ctx));
  const first = keys[0];
  if (typeof first !== "string") {
    throw new OttlSyntaxError(`${text} is a map: its first key must be a string`, node.col);
  }
  if (keys.length === 1) return (ctx) => fromAnyValue(findAttribute(of(ctx), first));
  return (ctx) => indexValue(findAttribute(of(ctx), first), keys, 1);
}

function scalarGetter(node: PathNode, text: string, get: Getter): Getter {
  if (node.keys.length > 0) {
    throw new OttlSyntaxError(`${text} cannot be indexed with [...]`, node.col);
  }
  return get;
}

/** A path in a condition's syntax tree. */
export type PathNode = ValueNode & { type: "path" };

type PathCompiler = (node: PathNode, text: string) => Getter;

const RESOURCE_PATHS: Readonly<Record<string, PathCompiler>> = {
  "resource.attributes": (n, t) => mapGetter(n, t, (c) => c.resource.attributes),
  "resource.dropped_attributes_count": (n, t) =>
    scalarGetter(n, t, (c) => int64(c.resource.droppedAttributesCount)),
};

const SCOPE_PATHS: Readonly<Record<string, PathCompiler>> = {
  "instrumentation_scope.name": (n, t) => scalarGetter(n, t, (c) => c.scope.name),
  "instrumentation_scope.version": (n, t) => scalarGetter(n, t, (c) => c.scope.version),
  "instrumentation_scope.attributes": (n, t) => mapGetter(n, t, (c) => c.scope.attributes),
};

const LOG_FIELDS: Readonly<Record<string, PathCompiler>> = {
  attributes: (n, t) => mapGetter(n, t, (c) => c.record.attributes),
  body: (n) => {
    const keys = n.keys;
    if (keys.length === 0) return (c) => fromAnyValue(c.record.body);
    return (c) => indexValue(c.record.body, keys, 0);
  },
  severity_number: (n, t) => scalarGetter(n, t, (c) => int64(c.record.severityNumber)),
  severity_text: (n, t) => scalarGetter(n, t, (c) => c.record.severityText),
  event_name: (n, t) => scalarGetter(n, t, (c) => c.record.eventName),
  flags: (n, t) => scalarGetter(n, t, (c) => int64(c.record.flags)),
  time_unix_nano: (n, t) => scalarGetter(n, t, (c) => c.record.timeUnixNano),
  observed_time_unix_nano: (n, t) => scalarGetter(n, t, (c) => c.record.observedTimeUnixNano),
  dropped_attributes_count: (n, t) =>
    scalarGetter(n, t, (c) => int64(c.record.droppedAttributesCount)),
};

function prefixed(
  prefix: string,
  table: Readonly<Record<string, PathCompiler>>,
): Record<string, PathCompiler> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [`${prefix}.${k}`, v]));
}

// The newer context name for the instrumentation scope.
const SCOPE_ALIASES: Readonly<Record<string, PathCompiler>> = Object.fromEntries(
  Object.entries(SCOPE_PATHS).map(([k, v]) => [k.replace("instrumentation_scope", "scope"), v]),
);

const PATHS: Readonly<Record<OttlContextName, Readonly<Record<string, PathCompiler>>>> = {
  log: {
    ...LOG_FIELDS,
    ...prefixed("log", LOG_FIELDS),
    ...RESOURCE_PATHS,
    ...SCOPE_PATHS,
    ...SCOPE_ALIASES,
  },
  resource: {
    attributes: (n, t) => mapGetter(n, t, (c) => c.resource.attributes),
    dropped_attributes_count: (n, t) =>
      scalarGetter(n, t, (c) => int64(c.resource.droppedAttributesCount)),
    ...RESOURCE_PATHS,
  },
  request: {},
};

/** The paths supported in `context`, for error messages. */
export function supportedPaths(context: OttlContextName): string[] {
  // The log.* and scope.* spellings are aliases; the list names each path once.
  const canonical = Object.keys(PATHS[context]).filter((p) => !/^(log|scope)\./.test(p));
  return [...canonical, 'request["<metadata key>"]'];
}

/** Reads `request["key"]`: the first value of that request metadata key, or nil. */
export function requestGetter(key: string): Getter {
  return (ctx) => ctx.client?.metadata?.get(key)?.[0] ?? null;
}

/** Compiles a path of `context`; throws {@linkcode OttlSyntaxError} naming it when unsupported. */
export function compilePath(node: PathNode, context: OttlContextName): Getter | RequestPath {
  const text = node.fields.join(".");
  if (text === "request") {
    if (node.keys.length !== 1 || typeof node.keys[0] !== "string") {
      throw new OttlSyntaxError(
        'request needs exactly one string key: request["<metadata key>"]',
        node.col,
      );
    }
    return { key: node.keys[0].toLowerCase() };
  }
  const compile = Object.hasOwn(PATHS[context], text) ? PATHS[context][text] : undefined;
  if (compile === undefined) {
    throw new OttlSyntaxError(
      `Unsupported path "${text}" in the ${context} context (supported: ${
        supportedPaths(context).join(", ")
      })`,
      node.col,
    );
  }
  return compile(node, text);
}

/**
 * A context whose paths all carry their context name (`log.body`, `resource.attributes`,
 * `scope.name`), as upstream's parsers with path context names: the filter processor's
 * `log_conditions`.
 */
export type ConditionContext = "log" | "scope" | "resource";

/** The context names a path may start with in each context (upstream's path context names). */
export const PATH_CONTEXT_NAMES: Readonly<Record<ConditionContext, readonly string[]>> = {
  log: ["log", "resource", "scope", "instrumentation_scope"],
  scope: ["scope", "instrumentation_scope", "resource"],
  resource: ["resource"],
};

const PREFIXED_PATHS: Readonly<Record<ConditionContext, Readonly<Record<string, PathCompiler>>>> = {
  log: { ...prefixed("log", LOG_FIELDS), ...RESOURCE_PATHS, ...SCOPE_PATHS, ...SCOPE_ALIASES },
  scope: { ...RESOURCE_PATHS, ...SCOPE_PATHS, ...SCOPE_ALIASES },
  resource: RESOURCE_PATHS,
};

/** The context name a path starts with, as upstream's grammar reads it (a first field followed by "."). */
export function pathContextName(node: PathNode): string | undefined {
  return node.fields.length > 1 ? node.fields[0] : undefined;
}

function writtenPath(node: PathNode): string {
  return node.fields.join(".") +
    node.keys.map((k) => `[${typeof k === "string" ? JSON.stringify(k) : k}]`).join("");
}

/**
 * Compiles a path that must name its context. With `prepend` (a group whose `context` is
 * written), a path without a valid context name gets that context in front, as upstream.
 * Throws {@linkcode OttlSyntaxError} naming the path and its column otherwise.
 */
export function compilePrefixedPath(
  node: PathNode,
  context: ConditionContext,
  prepend: boolean,
): Getter {
  const names = PATH_CONTEXT_NAMES[context];
  const first = pathContextName(node);
  let fields = node.fields;
  if (first === undefined || !names.includes(first)) {
    if (prepend) {
      fields = [context, ...fields];
    } else if (first === undefined) {
      throw new OttlSyntaxError(
        `Missing context name for path "${writtenPath(node)}": write it as one of ${
          names.map((n) => `"${n}.${writtenPath(node)}"`).join(", ")
        }`,
        node.col,
      );
    } else {
      throw new OttlSyntaxError(
        `Context "${first}" of path "${
          writtenPath(node)
        }" is not valid in the ${context} context: use one of ${
          names.map((n) => `"${n}"`).join(", ")
        }`,
        node.col,
      );
    }
  }
  const text = fields.join(".");
  const table = PREFIXED_PATHS[context];
  const compile = Object.hasOwn(table, text) ? table[text] : undefined;
  if (compile === undefined) {
    const supported = Object.keys(table).filter((p) => !p.startsWith("instrumentation_scope."));
    throw new OttlSyntaxError(
      `Unsupported path "${text}" in the ${context} context (supported: ${supported.join(", ")})`,
      node.col,
    );
  }
  return compile({ ...node, fields }, text);
}
