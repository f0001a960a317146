/**
 * Looks factories up by kind and type name (current names and older aliases).
 *
 * @module
 */

import type { Factory, Kind } from "./component.ts";

/**
 * Types that upstream offers but this collector does not: named in errors so users know the
 * component exists upstream and is not merely misspelt.
 */
export const KNOWN_UNSUPPORTED: Readonly<Record<string, string>> = {
  jaeger: "traces only",
  zipkin: "traces only",
  prometheus: "metrics only",
  prometheusremotewrite: "metrics only",
  hostmetrics: "metrics only",
  kubeletstats: "metrics only",
  k8s_cluster: "metrics only",
  spanmetrics: "traces and metrics only",
  otlp: "not implemented yet (as an exporter: use otlp_http)",
  otlp_grpc: "not implemented yet",
  syslog: "not implemented yet",
  journald: "not implemented yet",
  transform: "not implemented yet",
  pprof: "not implemented yet",
  zpages: "not implemented yet",
  loki: "not implemented yet",
  elasticsearch: "not implemented yet",
  kafka: "not implemented yet",
  file: "not implemented yet",
  count: "not implemented yet",
  failover: "not implemented yet",
};

/** The built-in (or test-provided) factories, indexed by kind and name. */
export class Registry {
  readonly factories: readonly Factory[];
  #byKey = new Map<string, Factory>();

  /** Indexes `factories`; throws when two claim the same kind and name. */
  constructor(factories: readonly Factory[]) {
    this.factories = factories;
    for (const f of factories) {
      for (const name of [f.type, ...(f.aliases ?? [])]) {
        const key = `${f.kind}:${name}`;
        if (this.#byKey.has(key)) throw new TypeError(`Duplicate ${f.kind} factory "${name}"`);
        this.#byKey.set(key, f);
      }
    }
  }

  /** The factory of `kind` answering to `type` (a current name or an alias). */
  get(kind: Kind, type: string): Factory | undefined {
    return this.#byKey.get(`${kind}:${type}`);
  }

  /** Every name (types and aliases) registered for `kind`, sorted. */
  names(kind: Kind): string[] {
    return this.factories.filter((f) => f.kind === kind)
      .flatMap((f) => [f.type, ...(f.aliases ?? [])]).sort();
  }
}
