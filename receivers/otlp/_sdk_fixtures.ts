/**
 * Shared by the JS SDK tests (`sdk_test.ts` over HTTP, `grpc_sdk_test.ts` over gRPC): the
 * severities the records are emitted with, and received values as plain JS values to compare
 * with what the SDK was given.
 *
 * @module
 */

import type { AnyValue, KeyValue } from "../../core/pdata/logs.ts";

const SEVERITY_TEXTS = ["INFO", "INFO2", "INFO3", "INFO4"];

/** Record `i`'s severity: INFO (9) to INFO4 (12) in turn. */
export function severityOf(i: number): { severityNumber: number; severityText: string } {
  return { severityNumber: 9 + (i % 4), severityText: SEVERITY_TEXTS[i % 4]! };
}

/** An AnyValue as a plain JS value: ints as bigint, or as number with `intsAsNumbers`. */
export function plainValue(v: AnyValue | undefined, intsAsNumbers = false): unknown {
  if (v === undefined) return undefined;
  switch (v.kind) {
    case "array":
      return v.value.map((x) => plainValue(x, intsAsNumbers));
    case "kvlist":
      return plainAttributes(v.value, intsAsNumbers);
    case "int":
      return intsAsNumbers ? Number(v.value) : v.value;
    case "empty":
      return null;
    default:
      return v.value;
  }
}

/** Key-values as a plain object (values as {@link plainValue}). */
export function plainAttributes(
  kvs: readonly KeyValue[],
  intsAsNumbers = false,
): Record<string, unknown> {
  return Object.fromEntries(kvs.map((kv) => [kv.key, plainValue(kv.value, intsAsNumbers)]));
}
