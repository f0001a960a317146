/**
 * The pod table of one processor: indexes from association keys to pod records, fed by the
 * shared pod informer. Deleted pods stay findable for a grace period so late records are
 * still enriched. When several pods claim one key (an IP reused while the old pod is in its
 * grace period, or a late event), all are kept and the lookup returns the newest live one,
 * else the newest deleted one, so a deletion hands the key back to the right pod. hostNetwork
 * pods are never indexed by IP; static pods are also found by their config hash (the UID in
 * their log path).
 *
 * @module
 */

import type { InformerHandler } from "../../pkg/kube/informer.ts";
import { type PodField, podKeys } from "./association.ts";
import type { PodRecord } from "./projection.ts";

/** Upstream's grace period for deleted pods. */
export const DELETE_GRACE_SECONDS = 120;

/** Counters the table reports to. */
export interface TableEvents {
  added(): void;
  updated(): void;
  deleted(): void;
}

function valuesOf(pod: PodRecord, field: PodField): readonly string[] {
  switch (field) {
    case "ip":
      return pod.hostNetwork || pod.ip === "" ? [] : [pod.ip];
    case "uid":
      return pod.mirrorUid === undefined ? [pod.uid] : [pod.uid, pod.mirrorUid];
    case "name":
      return [pod.name];
    case "namespace":
      return [pod.namespace];
    case "cid": {
      const ids: string[] = [];
      for (const c of pod.containers ?? []) if (c.ids) ids.push(...c.ids);
      return ids;
    }
  }
}

/** The newest live claimant, else the newest deleted one. */
function best(claimants: readonly PodRecord[]): PodRecord {
  let pick = claimants[0]!;
  for (const p of claimants) {
    const live = p.deletedAt === 0;
    const pickLive = pick.deletedAt === 0;
    if ((live && !pickLive) || (live === pickLive && p.startTime > pick.startTime)) pick = p;
  }
  return pick;
}

/** See the module doc. */
export class PodTable implements InformerHandler<PodRecord> {
  readonly #fieldSets: readonly (readonly PodField[])[];
  /** Key → the one pod under it, or every claimant when several pods share it. */
  readonly #indexes: Map<string, PodRecord | PodRecord[]>[];
  readonly #exclude: readonly RegExp[];
  readonly #events: TableEvents;
  readonly #now: () => number;
  /** Deleted pods waiting for the end of their grace period, oldest first. */
  #deleted: PodRecord[] = [];
  #onSynced: (() => void) | undefined;

  /** Builds a table with one index per field combination. */
  constructor(
    fieldSets: readonly (readonly PodField[])[],
    exclude: readonly RegExp[],
    events: TableEvents,
    now: () => number = () => Date.now() / 1000,
    onSynced?: () => void,
  ) {
    this.#fieldSets = fieldSets;
    this.#indexes = fieldSets.map(() => new Map());
    this.#exclude = exclude;
    this.#events = events;
    this.#now = now;
    this.#onSynced = onSynced;
  }

  /** Entries over every index (upstream's `pod_table_size` counts identifiers). */
  get size(): number {
    let n = 0;
    for (const m of this.#indexes) n += m.size;
    return n;
  }

  /** The pod under `key` in index `index`. */
  lookup(index: number, key: string): PodRecord | undefined {
    const v = this.#indexes[index]?.get(key);
    return Array.isArray(v) ? best(v) : v;
  }

  #excluded(pod: PodRecord): boolean {
    return pod.ignored || this.#exclude.some((re) => re.test(pod.name));
  }

  #index(pod: PodRecord): void {
    this.#fieldSets.forEach((fields, i) => {
      const map = this.#indexes[i]!;
      for (const key of podKeys(fields, (f) => valuesOf(pod, f))) {
        const v = map.get(key);
        if (v === undefined || (!Array.isArray(v) && v.uid === pod.uid)) map.set(key, pod);
        else if (!Array.isArray(v)) map.set(key, [v, pod]);
        else {
          const same = v.findIndex((p) => p.uid === pod.uid);
          if (same < 0) v.push(pod);
          else v[same] = pod;
        }
      }
    });
  }

  #unindex(pod: PodRecord): void {
    this.#fieldSets.forEach((fields, i) => {
      const map = this.#indexes[i]!;
      for (const key of podKeys(fields, (f) => valuesOf(pod, f))) {
        const v = map.get(key);
        if (v === pod) map.delete(key);
        else if (Array.isArray(v)) {
          const rest = v.filter((p) => p !== pod);
          map.set(key, rest.length === 1 ? rest[0]! : rest);
        }
      }
    });
  }

  /** A pod appeared. */
  add(pod: PodRecord): void {
    if (this.#excluded(pod)) return;
    this.#index(pod);
    this.#events.added();
  }

  /** A pod changed (an IP assigned, a container restarted). */
  update(old: PodRecord, pod: PodRecord): void {
    this.#unindex(old);
    if (!this.#excluded(pod)) this.#index(pod);
    this.#events.updated();
  }

  /** A pod was deleted: it stays findable for {@linkcode DELETE_GRACE_SECONDS}. */
  delete(pod: PodRecord): void {
    pod.deletedAt = this.#now();
    this.#deleted.push(pod);
    this.#events.deleted();
  }

  /** The informer completed a list. */
  synced(): void {
    this.#onSynced?.();
  }

  /** Forgets pods whose grace period ended. */
  sweep(): void {
    const limit = this.#now() - DELETE_GRACE_SECONDS;
    let n = 0;
    while (n < this.#deleted.length && this.#deleted[n]!.deletedAt <= limit) {
      this.#unindex(this.#deleted[n]!);
      n++;
    }
    if (n > 0) this.#deleted = this.#deleted.slice(n);
  }
}
