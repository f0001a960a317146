import assert from "node:assert/strict";
import { FakeKubeApi, podFixture } from "../../tests/fakes/kube_api.ts";
import { attrsOf, harness, HOST, logsWith, until } from "./_test_helpers.ts";

/** A tiny deterministic PRNG, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

Deno.test("pod churn: thousands of creates, updates and deletes while records flow; never the wrong pod", async () => {
  const api = FakeKubeApi.start({ splitEvents: 2 });
  const h = harness(api, {
    pod_association: [
      { sources: [{ from: "resource_attribute", name: "k8s.pod.uid" }] },
      { sources: [{ from: "resource_attribute", name: "k8s.pod.ip" }] },
    ],
    extract: { metadata: ["k8s.pod.name", "k8s.pod.uid", "k8s.namespace.name"] },
  });
  await h.proc.start(HOST);
  await until(() => h.proc.ready, "the first sync");
  const random = rng(7);
  const nameOf = new Map<string, string>();
  const ipsOf = new Map<string, Set<string>>();
  const live = new Map<string, { name: string; ip: string }>();
  const ipPool = Array.from({ length: 300 }, (_, i) => `10.2.${i >> 8}.${i & 255}`);
  let checked = 0;
  let enrichedByUid = 0;
  let enrichedByIp = 0;
  // The API creates each pod at a later second than the previous one: newer pods win IPs.
  const created = (i: number) =>
    new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString().replace(".000Z", "Z");
  for (let step = 0; step < 4000; step++) {
    const r = random();
    if (r < 0.5 || live.size < 50) {
      const name = `churn-${step}`;
      const uid = `uid-${step}`;
      const ip = ipPool[Math.floor(random() * ipPool.length)]!;
      nameOf.set(uid, name);
      (ipsOf.get(uid) ?? ipsOf.set(uid, new Set()).get(uid)!).add(ip);
      live.set(uid, { name, ip });
      api.put("pods", podFixture({ name, uid, ip, creationTimestamp: created(step) }));
    } else if (r < 0.75) {
      const uids = [...live.keys()];
      const uid = uids[Math.floor(random() * uids.length)]!;
      const pod = live.get(uid)!;
      api.put(
        "pods",
        podFixture({
          name: pod.name,
          uid,
          ip: pod.ip,
          labels: { step: String(step) },
          creationTimestamp: created(Number(uid.slice(4))),
        }),
      );
    } else {
      const uids = [...live.keys()];
      const uid = uids[Math.floor(random() * uids.length)]!;
      api.remove("pods", "default", live.get(uid)!.name);
      live.delete(uid);
    }
    if (step % 20 !== 0) continue;
    if (step % 200 === 0) {
      // Let the cache catch up now and then, so most lookups can succeed.
      const newest = [...nameOf.keys()].at(-1)!;
      await until(() => h.proc.table.lookup(0, newest) !== undefined, "the cache to catch up");
    }
    // Records for random pods ever created (some deleted), by uid and by IP.
    const uids = [...nameOf.keys()];
    const batch = Array.from({ length: 10 }, (): Record<string, string> => {
      const uid = uids[Math.floor(random() * uids.length)]!;
      return random() < 0.5 ? { "k8s.pod.uid": uid } : { "k8s.pod.ip": [...ipsOf.get(uid)!][0]! };
    });
    const logs = { resourceLogs: batch.flatMap((a) => logsWith(a).resourceLogs) };
    await h.proc.consume(logs, {});
    logs.resourceLogs.forEach((_, i) => {
      const got = attrsOf(logs, i);
      const uid = got["k8s.pod.uid"] as string;
      const name = got["k8s.pod.name"];
      if (name === undefined) return;
      checked++;
      assert.equal(name, nameOf.get(uid), "name and uid come from the same pod");
      assert.equal(got["k8s.namespace.name"], "default");
      if (batch[i]!["k8s.pod.ip"] !== undefined) {
        enrichedByIp++;
        assert.ok(ipsOf.get(uid)!.has(batch[i]!["k8s.pod.ip"]!), "that pod had this IP");
      } else enrichedByUid++;
    });
    await new Promise((r) => setTimeout(r, 0)); // let watch events in
  }
  assert.ok(enrichedByUid > 500 && enrichedByIp > 500, `${enrichedByUid} / ${enrichedByIp}`);
  // Caught up: every live pod's IP leads to the newest pod holding it, every uid to its pod.
  const last = [...live.keys()].at(-1)!;
  await until(() => h.proc.table.lookup(0, last) !== undefined, "the last event");
  await until(
    () => h.metrics.value("otelcol_otelsvc_k8s_pod_deleted", {}) === nameOf.size - live.size,
    "deletes",
  );
  const newestByIp = new Map<string, string>();
  for (const [uid, p] of live) newestByIp.set(p.ip, uid); // insertion order = creation order
  for (const [ip, uid] of newestByIp) {
    assert.equal(h.proc.table.lookup(1, ip)?.uid, uid, `IP ${ip}`);
  }
  for (const uid of nameOf.keys()) {
    assert.equal(h.proc.table.lookup(0, uid)?.name, nameOf.get(uid), "deleted pods within grace");
  }
  assert.ok(checked > 1000);
  await h.proc.shutdown();
  await api.stop();
});
