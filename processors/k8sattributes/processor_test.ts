import assert from "node:assert/strict";
import { EncodedLogs } from "../../core/pdata/encoded_logs.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { FakeKubeApi, podFixture } from "../../tests/fakes/kube_api.ts";
import { attrsOf, enrich, harness, HOST, logsWith, until } from "./_test_helpers.ts";
import { K8S_METRICS } from "./processor.ts";

const WEB = podFixture({
  name: "web-7d4b9c6f5-x2x9k",
  namespace: "shop",
  ip: "10.1.0.5",
  node: "node-1",
  ownerKind: "ReplicaSet",
  ownerName: "web-7d4b9c6f5",
  labels: { app: "web", "pod-template-hash": "7d4b9c6f5" },
  creationTimestamp: "2026-11-30T10:11:12Z",
});

const DEFAULT_ATTRS = {
  "k8s.namespace.name": "shop",
  "k8s.pod.name": "web-7d4b9c6f5-x2x9k",
  "k8s.pod.uid": "uid-shop-web-7d4b9c6f5-x2x9k",
  "k8s.pod.start_time": "2026-11-30T10:11:12Z",
  "k8s.deployment.name": "web",
  "k8s.node.name": "node-1",
};

async function started(pods: Record<string, unknown>[], plain: unknown = {}) {
  const api = FakeKubeApi.start();
  api.seed("pods", pods);
  const h = harness(api, plain);
  await h.proc.start(HOST);
  await until(() => h.proc.ready, "the first sync");
  return {
    api,
    h,
    async [Symbol.asyncDispose]() {
      await h.proc.shutdown();
      await api.stop();
    },
  };
}

Deno.test("default config: legacy association by k8s.pod.ip, default metadata with upstream names", async () => {
  await using t = await started([WEB]);
  assert.deepEqual(await enrich(t.h, { "k8s.pod.ip": "10.1.0.5" }), {
    "k8s.pod.ip": "10.1.0.5",
    ...DEFAULT_ATTRS,
  });
  const list = t.api.requestsFor("pods", "list")[0]!;
  assert.equal(list.params.get("resourceVersion"), "0");
  assert.equal(list.params.get("limit"), "500");
});

Deno.test("legacy order: resource ip, then the connection, then host.name only when it is an IP", async () => {
  await using t = await started([WEB]);
  assert.equal((await enrich(t.h, { ip: "10.1.0.5" }))["k8s.pod.name"], WEB.metadata.name);
  assert.equal((await enrich(t.h, {}, "10.1.0.5"))["k8s.pod.name"], WEB.metadata.name);
  assert.equal((await enrich(t.h, { "host.name": "10.1.0.5" }))["k8s.pod.name"], WEB.metadata.name);
  assert.equal((await enrich(t.h, { "host.name": "web-host" }))["k8s.pod.name"], undefined);
  // The first rule that resolves is the only one looked up: k8s.pod.ip wins over the peer.
  assert.equal(
    (await enrich(t.h, { "k8s.pod.ip": "10.9.9.9" }, "10.1.0.5"))["k8s.pod.name"],
    undefined,
  );
});

Deno.test("association sources: uid, name+namespace, container.id, connection; every source must resolve", async () => {
  const plain = {
    pod_association: [
      { sources: [{ from: "resource_attribute", name: "k8s.pod.uid" }] },
      {
        sources: [
          { from: "resource_attribute", name: "k8s.pod.name" },
          { from: "resource_attribute", name: "k8s.namespace.name" },
        ],
      },
      { sources: [{ from: "resource_attribute", name: "container.id" }] },
      { sources: [{ from: "connection" }] },
    ],
  };
  await using t = await started([WEB], plain);
  const name = WEB.metadata.name;
  assert.equal((await enrich(t.h, { "k8s.pod.uid": WEB.metadata.uid }))["k8s.pod.name"], name);
  assert.equal(
    (await enrich(t.h, { "k8s.pod.name": name, "k8s.namespace.name": "shop" }))["k8s.pod.uid"],
    WEB.metadata.uid,
  );
  // Name without namespace: the rule does not resolve; no later rule resolves either.
  assert.equal((await enrich(t.h, { "k8s.pod.name": name }))["k8s.pod.uid"], undefined);
  const cid = WEB.status.containerStatuses[0].containerID.slice("containerd://".length);
  assert.equal((await enrich(t.h, { "container.id": cid }))["k8s.pod.name"], name);
  assert.equal((await enrich(t.h, {}, "10.1.0.5"))["k8s.pod.name"], name);
  assert.equal(t.h.metrics.value(K8S_METRICS.association, { status: "success" }), 4);
  assert.equal(t.h.metrics.value(K8S_METRICS.association, { status: "error" }), 1);
});

Deno.test("hostNetwork pods are never matched by IP, but are by uid", async () => {
  const host = podFixture({ name: "node-exporter", ip: "192.168.0.10", hostNetwork: true });
  const plain = {
    pod_association: [
      { sources: [{ from: "resource_attribute", name: "k8s.pod.ip" }] },
      { sources: [{ from: "resource_attribute", name: "k8s.pod.uid" }] },
    ],
  };
  await using t = await started([host], plain);
  assert.equal((await enrich(t.h, { "k8s.pod.ip": "192.168.0.10" }))["k8s.pod.name"], undefined);
  assert.equal((await enrich(t.h, {}, "192.168.0.10"))["k8s.pod.name"], undefined);
  assert.equal(
    (await enrich(t.h, { "k8s.pod.uid": host.metadata.uid }))["k8s.pod.name"],
    "node-exporter",
  );
});

Deno.test("existing non-empty attributes are kept; empty ones are filled", async () => {
  await using t = await started([WEB]);
  const got = await enrich(t.h, {
    "k8s.pod.ip": "10.1.0.5",
    "k8s.namespace.name": "from-sdk",
    "k8s.pod.name": "",
  });
  assert.equal(got["k8s.namespace.name"], "from-sdk");
  assert.equal(got["k8s.pod.name"], WEB.metadata.name);
});

Deno.test("exclude: jaeger pods by default, configured regexes, and the ignore annotation", async () => {
  const jaeger = podFixture({ name: "jaeger-agent-abc", ip: "10.1.0.6" });
  const ignored = podFixture({
    name: "quiet",
    ip: "10.1.0.7",
    annotations: { "opentelemetry.io/k8s-processor/ignore": "true" },
  });
  const batchPod = podFixture({ name: "batch-runner-1", ip: "10.1.0.8" });
  await using t = await started([jaeger, ignored, batchPod, WEB]);
  assert.equal((await enrich(t.h, { "k8s.pod.ip": "10.1.0.6" }))["k8s.pod.name"], undefined);
  assert.equal((await enrich(t.h, { "k8s.pod.ip": "10.1.0.7" }))["k8s.pod.name"], undefined);
  assert.equal((await enrich(t.h, { "k8s.pod.ip": "10.1.0.8" }))["k8s.pod.name"], "batch-runner-1");
  await using t2 = await started([batchPod], { exclude: { pods: [{ name: "^batch-" }] } });
  assert.equal((await enrich(t2.h, { "k8s.pod.ip": "10.1.0.8" }))["k8s.pod.name"], undefined);
});

Deno.test("filter: node, namespace, fields and labels become the pod watch's selectors", async () => {
  Deno.env.set("K8SATTR_TEST_NODE", "node-7");
  const plain = {
    filter: {
      node_from_env_var: "K8SATTR_TEST_NODE",
      namespace: "shop",
      fields: [{ key: "status.phase", value: "Succeeded", op: "not-equals" }],
      labels: [{ key: "tier", value: "db" }, { key: "canary", op: "does-not-exist" }],
    },
  };
  await using t = await started([], plain);
  for (const kind of ["list", "watch"] as const) {
    await until(() => t.api.requestsFor("pods", kind).length > 0, kind);
    const r = t.api.requestsFor("pods", kind)[0]!;
    assert.equal(r.namespace, "shop");
    assert.equal(r.params.get("fieldSelector"), "spec.nodeName=node-7,status.phase!=Succeeded");
    assert.equal(r.params.get("labelSelector"), "tier=db,!canary");
  }
  assert.equal(t.api.requestsFor("replicasets").length, 0, "no ReplicaSet watch by default");
  assert.equal(t.api.requestsFor("namespaces").length, 0);
  assert.equal(t.api.requestsFor("nodes").length, 0);
});

Deno.test("records before the first sync are held, then enriched", async () => {
  const api = FakeKubeApi.start({ token: "right" });
  api.seed("pods", [WEB]);
  const h = harness(api, {});
  api.token = "wrong"; // every request gets 401 until the token is fixed
  await h.proc.start(HOST);
  const logs = logsWith({ "k8s.pod.ip": "10.1.0.5" });
  let done = false;
  const pending = h.proc.consume(logs, {}).then(() => done = true);
  await until(() => api.requests.length >= 3, "failing lists");
  assert.equal(done, false, "held while the cache is empty");
  assert.equal(h.out.length, 0);
  api.token = undefined;
  await pending;
  assert.equal(attrsOf(h.out[0]!)["k8s.pod.name"], WEB.metadata.name);
  await h.proc.shutdown();
  await api.stop();
});

Deno.test("a record whose pod is found is still held until every cache synced (the cluster uid from kube-system)", async () => {
  const api = FakeKubeApi.start();
  api.seed("pods", [WEB]);
  api.seed("namespaces", [{ metadata: { name: "kube-system", uid: "cluster-uid-1" } }]);
  api.forbidden.add("namespaces"); // the namespace list fails until allowed
  const h = harness(api, { extract: { metadata: ["k8s.pod.name", "k8s.cluster.uid"] } });
  await h.proc.start(HOST);
  await until(() => h.proc.table.size > 0, "the pod list");
  const logs = logsWith({ "k8s.pod.ip": "10.1.0.5" });
  let done = false;
  const pending = h.proc.consume(logs, {}).then(() => done = true);
  await until(() => api.requestsFor("namespaces").length >= 2, "failing namespace lists");
  assert.equal(done, false, "held: the pod is known, the namespaces are not");
  api.forbidden.delete("namespaces");
  await pending;
  assert.deepEqual(attrsOf(h.out[0]!), {
    "k8s.pod.ip": "10.1.0.5",
    "k8s.pod.name": WEB.metadata.name,
    "k8s.cluster.uid": "cluster-uid-1",
  });
  assert.equal(h.metrics.value(K8S_METRICS.association, { status: "success" }), 1);
  await h.proc.shutdown();
  await api.stop();
});

Deno.test("holding ends at wait_for_metadata_timeout: the record passes un-enriched", async () => {
  const api = FakeKubeApi.start();
  api.forbidden.add("pods");
  const h = harness(api, { wait_for_metadata_timeout: "50ms" });
  await h.proc.start(HOST);
  const logs = logsWith({ "k8s.pod.ip": "10.1.0.5" });
  await h.proc.consume(logs, {});
  assert.equal(attrsOf(logs)["k8s.pod.name"], undefined);
  assert.equal(h.out.length, 1);
  assert.ok(h.logLines.some((l) => l.includes("pod not found")));
  await h.proc.shutdown();
  await api.stop();
});

Deno.test("wait_for_metadata: start fails after the timeout with the API's reason", async () => {
  const api = FakeKubeApi.start();
  api.forbidden.add("pods");
  const h = harness(api, { wait_for_metadata: true, wait_for_metadata_timeout: "200ms" });
  await assert.rejects(
    h.proc.start(HOST),
    /did not sync within wait_for_metadata_timeout.*403 Forbidden.*verb "list" on resource "pods"/s,
  );
  await api.stop();
});

Deno.test("wait_for_metadata: start returns once the pods are listed", async () => {
  const api = FakeKubeApi.start();
  api.seed("pods", [WEB]);
  const h = harness(api, { wait_for_metadata: true });
  await h.proc.start(HOST);
  assert.equal((await enrich(h, { "k8s.pod.ip": "10.1.0.5" }))["k8s.pod.name"], WEB.metadata.name);
  await h.proc.shutdown();
  await api.stop();
});

Deno.test("static pods: found by the config hash in their log path", async () => {
  const mirror = podFixture({
    name: "kube-apiserver-cp-1",
    namespace: "kube-system",
    uid: "api-server-uid",
    ownerKind: "Node",
    ownerName: "cp-1",
    hostNetwork: true,
    annotations: {
      "kubernetes.io/config.mirror": "2e4c0a1b9d4f4e6f8a7b6c5d4e3f2a1b",
      "kubernetes.io/config.hash": "2e4c0a1b9d4f4e6f8a7b6c5d4e3f2a1b",
    },
  });
  const plain = {
    pod_association: [{ sources: [{ from: "resource_attribute", name: "k8s.pod.uid" }] }],
  };
  await using t = await started([mirror], plain);
  const got = await enrich(t.h, { "k8s.pod.uid": "2e4c0a1b9d4f4e6f8a7b6c5d4e3f2a1b" });
  assert.equal(got["k8s.pod.name"], "kube-apiserver-cp-1");
  assert.equal(got["k8s.namespace.name"], "kube-system");
});

Deno.test("passthrough: only k8s.pod.ip from the connection, no API access", async () => {
  const api = FakeKubeApi.start();
  const h = harness(api, { passthrough: true });
  await h.proc.start(HOST);
  assert.deepEqual(await enrich(h, { a: "b" }, "10.1.0.5"), { a: "b", "k8s.pod.ip": "10.1.0.5" });
  assert.deepEqual(await enrich(h, { "k8s.pod.ip": "10.1.0.9" }, "10.1.0.5"), {
    "k8s.pod.ip": "10.1.0.9",
  });
  assert.equal(api.requests.length, 0);
  await h.proc.shutdown();
  await api.stop();
});

Deno.test("two processors share one pod watch; metrics use upstream's names", async () => {
  const api = FakeKubeApi.start();
  api.seed("pods", [WEB]);
  const a = harness(api, {});
  const b = harness(api, { extract: { metadata: ["k8s.pod.name"] } });
  await a.proc.start(HOST);
  await b.proc.start(HOST);
  await until(() => a.proc.ready && b.proc.ready && api.openWatches === 1, "both synced");
  assert.equal(api.requestsFor("pods", "watch").length, 1);
  api.put("pods", podFixture({ name: "new", ip: "10.1.0.50" }));
  await until(() => a.metrics.value(K8S_METRICS.podAdded, {}) === 2, "the add");
  api.remove("pods", "default", "new");
  await until(() => b.metrics.value(K8S_METRICS.podDeleted, {}) === 1, "the delete");
  assert.deepEqual(await enrich(b, { "k8s.pod.ip": "10.1.0.5" }), {
    "k8s.pod.ip": "10.1.0.5",
    "k8s.pod.name": WEB.metadata.name,
  });
  // Deleted pods stay findable during the grace period.
  assert.equal((await enrich(a, { "k8s.pod.ip": "10.1.0.50" }))["k8s.pod.name"], "new");
  await enrich(a, { "k8s.pod.ip": "10.99.0.1" });
  assert.equal(a.metrics.value(K8S_METRICS.ipLookupMiss, {}), 1);
  await a.proc.shutdown();
  await b.proc.shutdown();
  await api.stop();
});

Deno.test("a batch held encoded is enriched without decoding its records: same attributes and metrics as objects", async () => {
  const batch = () => {
    const resources = ([
      { "k8s.pod.ip": "10.1.0.5" }, // found
      { "k8s.pod.ip": "10.9.9.9" }, // not found
      { other: "x" }, // no identifier
      {}, // the connection's address
    ] as Record<string, string>[]).map((attrs) => logsWith(attrs).resourceLogs[0]!);
    return { resourceLogs: resources };
  };
  const asObjects = batch();
  const encoded = new EncodedLogs([encodeLogsRequest(batch())], 4);
  const recordBytes = encodeLogsRequest(batch()).length;
  await using objects = await started([WEB]);
  await using bytes = await started([WEB]);
  const ctx = { client: { addr: "10.1.0.5" } };
  await objects.h.proc.consume(asObjects, ctx);
  await bytes.h.proc.consume(encoded, ctx);
  assert.ok(bytes.h.out[0] === encoded && encoded.pieces !== undefined, "still encoded");
  assert.ok(encoded.pieces[0]!.length > recordBytes, "the resources grew");
  assert.deepEqual({ resourceLogs: encoded.resourceLogs }, asObjects);
  for (const status of ["success", "error"]) {
    assert.equal(
      bytes.h.metrics.value(K8S_METRICS.association, { status }),
      objects.h.metrics.value(K8S_METRICS.association, { status }),
    );
  }
  assert.equal(bytes.h.metrics.value(K8S_METRICS.ipLookupMiss, {}), 1);
});

Deno.test("passthrough on a batch held encoded: k8s.pod.ip from the connection, records still encoded", async () => {
  const h = harness(undefined, { passthrough: true });
  await h.proc.start(HOST);
  const encoded = new EncodedLogs([encodeLogsRequest(logsWith({ a: "b" }))], 1);
  await h.proc.consume(encoded, { client: { addr: "10.1.0.5" } });
  assert.ok(encoded.pieces !== undefined);
  assert.deepEqual(attrsOf(encoded), { a: "b", "k8s.pod.ip": "10.1.0.5" });
  await h.proc.shutdown();
});

Deno.test("before the first sync a batch held encoded waits too, and stays encoded", async () => {
  const api = FakeKubeApi.start({ token: "right" });
  api.seed("pods", [WEB]);
  const h = harness(api, {});
  api.token = "wrong";
  await h.proc.start(HOST);
  const encoded = new EncodedLogs([encodeLogsRequest(logsWith({ "k8s.pod.ip": "10.1.0.5" }))], 1);
  const pending = h.proc.consume(encoded, {});
  await until(() => api.requests.length >= 3, "failing lists");
  assert.equal(h.out.length, 0, "held");
  api.token = undefined;
  await pending;
  assert.ok(encoded.pieces !== undefined, "still encoded");
  assert.equal(attrsOf(h.out[0]!)["k8s.pod.name"], WEB.metadata.name);
  assert.equal(h.metrics.value(K8S_METRICS.association, { status: "success" }), 1);
  await h.proc.shutdown();
  await api.stop();
});
