import assert from "node:assert/strict";
import { FakeKubeApi, podFixture } from "../../tests/fakes/kube_api.ts";
import { enrich, harness, HOST, until } from "./_test_helpers.ts";
import { METADATA_FIELDS } from "./config.ts";
import { expandTemplate, formatStartTime, parseImage, repoDigest } from "./extract.ts";

const RS_UID = "rs-uid-1";
const DEPLOY_UID = "deploy-uid-1";

function cluster(): FakeKubeApi {
  const api = FakeKubeApi.start();
  api.seed("namespaces", [
    { metadata: { name: "kube-system", uid: "cluster-uid-42" } },
    {
      metadata: {
        name: "shop",
        uid: "ns-shop",
        labels: { team: "payments", "cost.example.com/center": "cc-7" },
        annotations: { "owner.example.com/email": "pay@example.com" },
      },
    },
  ]);
  api.seed("nodes", [{
    metadata: {
      name: "node-1",
      uid: "node-uid-1",
      labels: { "topology.kubernetes.io/zone": "eu-west-1a" },
      annotations: { "node.alpha.kubernetes.io/ttl": "0" },
    },
  }]);
  api.seed("replicasets", [{
    metadata: {
      name: "web-7d4b9c6f5",
      namespace: "shop",
      uid: RS_UID,
      ownerReferences: [{ kind: "Deployment", name: "web", uid: DEPLOY_UID, controller: true }],
    },
    spec: { replicas: 3 },
  }]);
  api.seed("jobs", [{
    metadata: {
      name: "report-29012345",
      namespace: "shop",
      uid: "job-uid-1",
      ownerReferences: [{ kind: "CronJob", name: "report", uid: "cron-uid-1", controller: true }],
    },
  }]);
  api.seed("pods", [
    podFixture({
      name: "web-7d4b9c6f5-x2x9k",
      namespace: "shop",
      ip: "10.1.0.5",
      ownerKind: "ReplicaSet",
      ownerName: "web-7d4b9c6f5",
      ownerUid: RS_UID,
      creationTimestamp: "2026-11-30T10:11:12Z",
      hostname: "web-0",
      labels: {
        "pod-template-hash": "7d4b9c6f5",
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/version": "1.4.2",
        "example.com/tier": "front",
        "example.com/shard": "3",
      },
      annotations: {
        "resource.opentelemetry.io/service.name": "web-frontend",
        "resource.opentelemetry.io/team.channel": "#web",
        "checksum/config": "abc",
      },
      containers: [["app", "registry.example.com/team/web:1.4.2"]],
    }),
    podFixture({
      name: "db-0",
      namespace: "shop",
      ip: "10.1.0.6",
      ownerKind: "StatefulSet",
      ownerName: "db",
      ownerUid: "sts-uid",
      containers: [["postgres", "postgres:16"], ["exporter", "quay.io/prom/pg-exporter"]],
    }),
    podFixture({
      name: "fluent-abcde",
      namespace: "shop",
      ip: "10.1.0.7",
      ownerKind: "DaemonSet",
      ownerName: "fluent",
      ownerUid: "ds-uid",
    }),
    podFixture({
      name: "report-29012345-qwert",
      namespace: "shop",
      ip: "10.1.0.8",
      ownerKind: "Job",
      ownerName: "report-29012345",
      ownerUid: "job-uid-1",
    }),
  ]);
  return api;
}

async function withAll(plain: Record<string, unknown>) {
  const api = cluster();
  const h = harness(api, plain);
  await h.proc.start(HOST);
  await until(() => h.proc.ready, "every informer synced");
  return {
    api,
    h,
    async [Symbol.asyncDispose]() {
      await h.proc.shutdown();
      await api.stop();
    },
  };
}

const ALL = { extract: { metadata: [...METADATA_FIELDS] } };

Deno.test("every metadata field of a Deployment pod, with the informers it needs", async () => {
  await using t = await withAll(ALL);
  const got = await enrich(t.h, { "k8s.pod.ip": "10.1.0.5" });
  const status = podFixture({
    name: "web-7d4b9c6f5-x2x9k",
    namespace: "shop",
    containers: [["app", "registry.example.com/team/web:1.4.2"]],
  }).status.containerStatuses[0];
  assert.deepEqual(got, {
    "k8s.pod.ip": "10.1.0.5",
    "k8s.namespace.name": "shop",
    "k8s.pod.name": "web-7d4b9c6f5-x2x9k",
    "k8s.pod.uid": "uid-shop-web-7d4b9c6f5-x2x9k",
    "k8s.pod.start_time": "2026-11-30T10:11:12Z",
    "k8s.pod.hostname": "web-0",
    "k8s.node.name": "node-1",
    "k8s.node.uid": "node-uid-1",
    "k8s.deployment.name": "web",
    "k8s.deployment.uid": DEPLOY_UID,
    "k8s.replicaset.name": "web-7d4b9c6f5",
    "k8s.replicaset.uid": RS_UID,
    "k8s.cluster.uid": "cluster-uid-42",
    "k8s.container.name": "app",
    "container.id": status.containerID.slice("containerd://".length),
    "container.image.name": "registry.example.com/team/web",
    "container.image.tag": "1.4.2",
    "container.image.repo_digests": [status.imageID],
    "k8s.container.restart_count": 0,
    "service.namespace": "shop",
    "service.name": "web",
    "service.version": "1.4.2",
    "service.instance.id": "shop.web-7d4b9c6f5-x2x9k.app",
  });
  for (const r of ["namespaces", "nodes", "replicasets", "jobs"]) {
    assert.ok(t.api.requestsFor(r, "list").length > 0, r);
  }
  assert.match(t.api.requestsFor("replicasets", "list")[0]!.accept, /PartialObjectMetadataList/);
  for (const kind of ["namespace", "node", "replicaset"]) {
    assert.ok(t.h.metrics.value(`otelcol_otelsvc_k8s_${kind}_added`, {})! >= 1, kind);
  }
  assert.match(t.api.requestsFor("jobs", "list")[0]!.accept, /PartialObjectMetadataList/);
});

Deno.test("StatefulSet, DaemonSet and CronJob owners; two containers need k8s.container.name", async () => {
  await using t = await withAll(ALL);
  const db = await enrich(t.h, { "k8s.pod.ip": "10.1.0.6" });
  assert.equal(db["k8s.statefulset.name"], "db");
  assert.equal(db["k8s.statefulset.uid"], "sts-uid");
  assert.equal(db["service.name"], "db");
  assert.equal(db["container.image.name"], undefined, "two containers: which one is unknown");
  const exporter = await enrich(t.h, {
    "k8s.pod.ip": "10.1.0.6",
    "k8s.container.name": "exporter",
  });
  assert.equal(exporter["container.image.name"], "quay.io/prom/pg-exporter");
  assert.equal(exporter["container.image.tag"], "latest");
  const ds = await enrich(t.h, { "k8s.pod.ip": "10.1.0.7" });
  assert.equal(ds["k8s.daemonset.name"], "fluent");
  assert.equal(ds["k8s.daemonset.uid"], "ds-uid");
  const job = await enrich(t.h, { "k8s.pod.ip": "10.1.0.8" });
  assert.equal(job["k8s.job.name"], "report-29012345");
  assert.equal(job["k8s.job.uid"], "job-uid-1");
  assert.equal(job["k8s.cronjob.name"], "report");
  assert.equal(job["k8s.cronjob.uid"], "cron-uid-1");
  assert.equal(job["service.name"], "report");
});

Deno.test("without informers: the Deployment from pod-template-hash, the CronJob from the Job name", async () => {
  await using t = await withAll({
    extract: { metadata: ["k8s.deployment.name", "k8s.cronjob.name", "container.image.name"] },
  });
  assert.deepEqual(await enrich(t.h, { "k8s.pod.ip": "10.1.0.5" }), {
    "k8s.pod.ip": "10.1.0.5",
    "k8s.deployment.name": "web",
    "container.image.name": "registry.example.com/team/web",
  });
  assert.equal((await enrich(t.h, { "k8s.pod.ip": "10.1.0.8" }))["k8s.cronjob.name"], "report");
  for (const r of ["namespaces", "nodes", "replicasets", "jobs"]) {
    assert.equal(t.api.requestsFor(r).length, 0, `${r} not watched`);
  }
});

Deno.test("labels and annotations: key, key_regex with $1, from pod, namespace and node", async () => {
  await using t = await withAll({
    extract: {
      metadata: [],
      labels: [
        { key: "example.com/tier" },
        { tag_name: "shard", key: "example.com/shard", from: "pod" },
        { tag_name: "label.$1", key_regex: "example\\.com/(.*)" },
        { key: "team", from: "namespace" },
        { tag_name: "cost", key_regex: "cost\\..*", from: "namespace" },
        { tag_name: "zone", key: "topology.kubernetes.io/zone", from: "node" },
        { key: "missing" },
      ],
      annotations: [
        { tag_name: "checksum", key: "checksum/config" },
        { key: "owner.example.com/email", from: "namespace" },
        { key_regex: "node\\.alpha\\..*", from: "node" },
      ],
    },
  });
  assert.deepEqual(await enrich(t.h, { "k8s.pod.ip": "10.1.0.5" }), {
    "k8s.pod.ip": "10.1.0.5",
    "k8s.pod.labels.example.com/tier": "front",
    shard: "3",
    "label.tier": "front",
    "label.shard": "3",
    "k8s.namespace.labels.team": "payments",
    cost: "cc-7",
    zone: "eu-west-1a",
    checksum: "abc",
    "k8s.namespace.annotations.owner.example.com/email": "pay@example.com",
    "k8s.node.annotations.node.alpha.kubernetes.io/ttl": "0",
  });
});

Deno.test("otel_annotations: resource.opentelemetry.io/* annotations win over derived values", async () => {
  await using t = await withAll({
    extract: { metadata: ["service.name", "k8s.pod.name"], otel_annotations: true },
  });
  assert.deepEqual(await enrich(t.h, { "k8s.pod.ip": "10.1.0.5" }), {
    "k8s.pod.ip": "10.1.0.5",
    "service.name": "web-frontend",
    "team.channel": "#web",
    "k8s.pod.name": "web-7d4b9c6f5-x2x9k",
  });
});

Deno.test("single-container pods get container attributes without k8s.container.name", async () => {
  await using t = await withAll({
    extract: { metadata: ["container.image.name", "container.image.tag", "service.instance.id"] },
  });
  assert.deepEqual(await enrich(t.h, { "k8s.pod.ip": "10.1.0.7" }), {
    "k8s.pod.ip": "10.1.0.7",
    "container.image.name": "registry.example.com/team/app",
    "container.image.tag": "1.4.2",
    "service.instance.id": "shop.fluent-abcde.app",
  });
});

Deno.test("image references, repo digests, start time and Go template expansion", () => {
  assert.deepEqual(parseImage("nginx"), { name: "nginx", tag: "latest" });
  assert.deepEqual(parseImage("localhost:5000/a/b:2.0"), {
    name: "localhost:5000/a/b",
    tag: "2.0",
  });
  assert.deepEqual(parseImage("localhost:5000/a/b"), { name: "localhost:5000/a/b", tag: "latest" });
  assert.deepEqual(parseImage("b@sha256:00ff"), { name: "b", tag: undefined });
  assert.deepEqual(parseImage("b:1@sha256:00ff"), { name: "b", tag: "1" });
  assert.equal(repoDigest("docker-pullable://nginx@sha256:ab"), "nginx@sha256:ab");
  assert.equal(repoDigest("sha256:ab"), undefined);
  assert.equal(formatStartTime(Date.parse("2026-01-02T03:04:05Z") / 1000), "2026-01-02T03:04:05Z");
  const m = /^(?:a\.(?<rest>.*)\.(\d))$/.exec("a.b.c.7")!;
  assert.equal(expandTemplate("x.$1-${2}.$rest.$$.$9", m), "x.b.c-7.b.c.$.");
});
