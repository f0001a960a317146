import assert from "node:assert/strict";
import { podFixture, type PodFixtureOptions } from "../../tests/fakes/kube_api.ts";
import type { KubeObject } from "../../pkg/kube/client.ts";
import { Association } from "./association.ts";
import { podProjection, type PodRecord } from "./projection.ts";
import { DELETE_GRACE_SECONDS, PodTable } from "./table.ts";

const project = podProjection.project({
  labels: { keys: [], patterns: [] },
  annotations: { keys: [], patterns: [] },
  containers: 0,
  owner: false,
  hostname: false,
});

function rec(o: PodFixtureOptions): PodRecord {
  return project(podFixture(o) as KubeObject)!;
}

function setup() {
  const assoc = new Association([
    [{ from: "resource_attribute", name: "k8s.pod.ip" }],
    [{ from: "resource_attribute", name: "k8s.pod.uid" }],
  ]);
  let now = 1_000_000;
  const counts = { added: 0, updated: 0, deleted: 0 };
  const table = new PodTable(assoc.fieldSets, [], {
    added: () => counts.added++,
    updated: () => counts.updated++,
    deleted: () => counts.deleted++,
  }, () => now);
  const byIp = (ip: string) => table.lookup(0, ip)?.name;
  return { table, byIp, advance: (s: number) => now += s, counts };
}

Deno.test("deleted pods stay findable for the grace period, then are forgotten", () => {
  const { table, byIp, advance } = setup();
  const p = rec({ name: "a", ip: "10.0.0.1" });
  table.add(p);
  table.delete(p);
  advance(DELETE_GRACE_SECONDS - 1);
  table.sweep();
  assert.equal(byIp("10.0.0.1"), "a");
  advance(2);
  table.sweep();
  assert.equal(byIp("10.0.0.1"), undefined);
  assert.equal(table.size, 0);
});

Deno.test("an IP reused by a newer pod: the newer wins, whatever the event order", () => {
  const { table, byIp, advance } = setup();
  const old = rec({ name: "old", ip: "10.0.0.1", creationTimestamp: "2026-01-01T00:00:00Z" });
  const young = rec({ name: "young", ip: "10.0.0.1", creationTimestamp: "2026-01-01T00:05:00Z" });
  table.add(young);
  table.add(old); // a late event for the older pod does not take the IP back
  assert.equal(byIp("10.0.0.1"), "young");
  // The old one's deletion and grace end do not remove the newer pod's entry.
  table.delete(old);
  advance(DELETE_GRACE_SECONDS + 1);
  table.sweep();
  assert.equal(byIp("10.0.0.1"), "young");
  assert.equal(table.lookup(1, old.uid), undefined);
  assert.equal(table.lookup(1, young.uid)?.name, "young");
});

Deno.test("a deleted pod's IP goes to the new pod at once", () => {
  const { table, byIp } = setup();
  const old = rec({ name: "old", ip: "10.0.0.1", creationTimestamp: "2026-01-01T00:05:00Z" });
  table.add(old);
  table.delete(old);
  table.add(rec({ name: "new", ip: "10.0.0.1", creationTimestamp: "2026-01-01T00:00:00Z" }));
  assert.equal(byIp("10.0.0.1"), "new");
});

Deno.test("an update moves the pod to its new IP (assigned after scheduling)", () => {
  const { table, byIp, counts } = setup();
  const pending = rec({ name: "a" });
  table.add(pending);
  assert.equal(table.size, 1, "only the uid while there is no IP");
  table.update(pending, rec({ name: "a", ip: "10.0.0.9" }));
  assert.equal(byIp("10.0.0.9"), "a");
  assert.deepEqual(counts, { added: 1, updated: 1, deleted: 0 });
});

Deno.test("three pods on one IP: deleting the newest hands the IP to the newest live one", () => {
  const { table, byIp, advance } = setup();
  const at = (m: number) => `2026-01-01T00:0${m}:00Z`;
  const a = rec({ name: "a", ip: "10.0.0.1", creationTimestamp: at(1) });
  const b = rec({ name: "b", ip: "10.0.0.1", creationTimestamp: at(2) });
  const c = rec({ name: "c", ip: "10.0.0.1", creationTimestamp: at(3) });
  [b, c, a].forEach((p) => table.add(p));
  assert.equal(byIp("10.0.0.1"), "c");
  table.delete(c);
  assert.equal(byIp("10.0.0.1"), "b");
  table.update(a, rec({ name: "a", ip: "10.0.0.1", creationTimestamp: at(1) }));
  assert.equal(byIp("10.0.0.1"), "b", "an update of an older pod does not take the IP");
  advance(DELETE_GRACE_SECONDS + 1);
  table.sweep();
  assert.equal(byIp("10.0.0.1"), "b");
  table.delete(b);
  table.delete(table.lookup(1, a.uid)!);
  assert.equal(byIp("10.0.0.1"), "b", "only deleted pods left: the newest");
});
