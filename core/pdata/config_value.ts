/**
 * A value written in the collector's YAML as an attribute value, keeping its YAML type
 * (`1` is an int, `1.0` a double): match blocks' `value` and the attributes processor's
 * `value`.
 *
 * @module
 */

import type { ConfigNode } from "../config/node.ts";
import type { AnyValue } from "./logs.ts";

/** Converts a config value to an attribute value, keeping its YAML type (int vs double). */
export function configValue(node: ConfigNode): AnyValue {
  switch (node.type) {
    case "seq":
      return { kind: "array", value: node.items.map(configValue) };
    case "map":
      return {
        kind: "kvlist",
        value: [...node.entries].map(([key, e]) => ({ key, value: configValue(e.node) })),
      };
    case "scalar": {
      const v = node.value;
      if (v === null) return { kind: "empty" };
      if (typeof v === "boolean") return { kind: "bool", value: v };
      if (typeof v === "string") return { kind: "string", value: v };
      if (Number.isInteger(v) && /^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F]+|0o[0-7]+)$/.test(node.raw)) {
        return { kind: "int", value: BigInt(v) };
      }
      return { kind: "double", value: v };
    }
  }
}
