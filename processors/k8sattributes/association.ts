/**
 * `pod_association`: which pod a resource belongs to. Rules are tried in order; the first
 * whose sources all have a value gives the lookup key, and only that key is looked up (as
 * upstream). Each rule's sources map to pod fields; pods are indexed under every distinct
 * field combination the rules use.
 *
 * @module
 */

import type { KeyValue } from "../../core/pdata/logs.ts";
import type { AssociationSource } from "./config.ts";

/** A pod field an association source matches. */
export type PodField = "ip" | "uid" | "name" | "namespace" | "cid";

/** A rule resolved to its pod fields and the index that serves it. */
export interface CompiledRule {
  readonly sources: readonly AssociationSource[];
  readonly fields: readonly PodField[];
  /** Position in {@linkcode Association.fieldSets}. */
  readonly index: number;
}

/** A lookup: which index, under which key, and a readable identifier for logs. */
export interface PodLookup {
  readonly index: number;
  readonly key: string;
}

/** Upstream's order when no rules are configured. */
export const LEGACY_RULES: readonly AssociationSource[][] = [
  [{ from: "resource_attribute", name: "k8s.pod.ip" }],
  [{ from: "resource_attribute", name: "ip" }],
  [{ from: "connection", name: "" }],
  [{ from: "resource_attribute", name: "host.name" }],
];

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;

/** True when `s` is an IPv4 or IPv6 address. */
export function isIp(s: string): boolean {
  return IPV4.test(s) || (s.includes(":") && IPV6.test(s));
}

function fieldOf(source: AssociationSource): PodField {
  if (source.from === "connection") return "ip";
  switch (source.name) {
    case "k8s.pod.uid":
      return "uid";
    case "k8s.pod.name":
      return "name";
    case "k8s.namespace.name":
      return "namespace";
    case "container.id":
      return "cid";
    default:
      return "ip"; // k8s.pod.ip, ip, host.name
  }
}

/** Where the separate values of a composite key are joined. */
const SEP = "\u0000";

function stringAttr(attrs: readonly KeyValue[], key: string): string {
  for (const kv of attrs) {
    if (kv.key === key) return kv.value.kind === "string" ? kv.value.value : "";
  }
  return "";
}

/** The compiled `pod_association` of one processor. */
export class Association {
  readonly rules: readonly CompiledRule[];
  /** Distinct sorted field combinations; the table keeps one index per entry. */
  readonly fieldSets: readonly (readonly PodField[])[];

  /** Compiles `rules` (upstream's legacy order when empty). */
  constructor(rules: readonly AssociationSource[][]) {
    const effective = rules.length === 0 ? LEGACY_RULES : rules;
    const sets: PodField[][] = [];
    this.rules = effective.map((sources) => {
      const fields = [...new Set(sources.map(fieldOf))].sort();
      let index = sets.findIndex((s) => s.join() === fields.join());
      if (index < 0) index = sets.push(fields) - 1;
      return { sources, fields, index };
    });
    this.fieldSets = sets;
  }

  /** True when some rule matches pods by IP (connection, `k8s.pod.ip`, `ip`, `host.name`). */
  get usesIp(): boolean {
    return this.fieldSets.some((s) => s.includes("ip"));
  }

  /** True when some rule matches pods by `container.id`. */
  get usesContainerId(): boolean {
    return this.fieldSets.some((s) => s.includes("cid"));
  }

  /** The lookup of the first rule whose sources all resolve, or undefined. */
  identify(attrs: readonly KeyValue[], clientAddr: string | undefined): PodLookup | undefined {
    for (const rule of this.rules) {
      const lookup = this.identifyRule(rule, attrs, clientAddr);
      if (lookup !== undefined) return lookup;
    }
    return undefined;
  }

  /** The lookup of `rule` when all its sources have a value, else undefined. */
  identifyRule(
    rule: CompiledRule,
    attrs: readonly KeyValue[],
    clientAddr: string | undefined,
  ): PodLookup | undefined {
    let single = "";
    let values: Map<PodField, string> | undefined;
    for (const s of rule.sources) {
      let v = s.from === "connection" ? clientAddr ?? "" : stringAttr(attrs, s.name);
      if (v === "") return undefined;
      if (s.name === "host.name" && !isIp(v)) return undefined;
      if (rule.sources.length === 1) {
        single = v;
        break;
      }
      const field = fieldOf(s);
      values ??= new Map();
      const prior = values.get(field);
      if (prior !== undefined && prior !== v) v = SEP; // contradicting sources: no pod
      values.set(field, v);
    }
    if (values === undefined) return { index: rule.index, key: single };
    return { index: rule.index, key: rule.fields.map((f) => values.get(f)).join(SEP) };
  }
}

/** Every key a pod is indexed under for a field combination (several for uid and cid). */
export function podKeys(
  fields: readonly PodField[],
  valuesOf: (field: PodField) => readonly string[],
): string[] {
  if (fields.length === 1) return [...valuesOf(fields[0]!)];
  let keys = [""];
  fields.forEach((f, i) => {
    const vals = valuesOf(f);
    keys = keys.flatMap((k) => vals.map((v) => (i === 0 ? v : k + SEP + v)));
  });
  return keys;
}
