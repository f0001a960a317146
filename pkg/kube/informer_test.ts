import assert from "node:assert/strict";
import { FakeKubeApi, type KObject } from "../../tests/fakes/kube_api.ts";
import { createLogger, nopLogger } from "../../core/telemetry/logger.ts";
import { KubeApiError, KubeClient, type KubeObject, PODS, REPLICASETS } from "./client.ts";
import { fileTokenSource, type KubeClientConfig } from "./config.ts";
import {
  acquireInformer,
  backoffDelay,
  Informer,
  type InformerHandler,
  type Projection,
  sharedInformerCount,
} from "./informer.ts";

interface Item {
  name: string;
  phase: string;
}

/** Keeps the name, and the phase only when asked (to test widening). */
const projection: Projection<{ phase: boolean }, Item> = {
  merge: (a, b) => ({ phase: a.phase || b.phase }),
  covers: (have, want) => have.phase || !want.phase,
  project: (spec) => (obj: KubeObject) => {
    const o = obj as KObject;
    return { name: o.metadata.name, phase: spec.phase ? o.status?.phase ?? "" : "" };
  },
};

function pod(name: string, extra: KObject = {}): KObject {
  return {
    kind: "Pod",
    apiVersion: "v1",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { nodeName: "node-1" },
    status: { phase: "Running" },
    ...extra,
  };
}

function config(api: FakeKubeApi): KubeClientConfig {
  return { server: api.url, insecureSkipTlsVerify: false, describe: "the test" };
}

class Recorder implements InformerHandler<Item> {
  readonly names = new Map<string, Item>();
  readonly log: string[] = [];
  syncs = 0;
  add(item: Item): void {
    this.names.set(item.name, item);
    this.log.push(`add ${item.name}`);
  }
  update(_old: Item, item: Item): void {
    this.names.set(item.name, item);
    this.log.push(`update ${item.name}`);
  }
  delete(item: Item): void {
    this.names.delete(item.name);
    this.log.push(`delete ${item.name}`);
  }
  synced(): void {
    this.syncs++;
  }
}

/** Waits (polling the event loop, no wall-clock assertion) until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function start(api: FakeKubeApi, rec: Recorder, spec = { phase: false }, cfg = config(api)) {
  const informer = new Informer(
    new KubeClient(cfg, { pageSize: 500, idleTimeoutMs: 300 }),
    PODS,
    { fieldSelector: "spec.nodeName=node-1" },
    projection,
    spec,
    nopLogger(),
    { initialMs: 5, maxMs: 20 },
  );
  informer.subscribe(rec, spec);
  informer.start();
  return informer;
}

Deno.test("list: resourceVersion=0 on the first page, then continue without it; node field selector", async () => {
  const api = FakeKubeApi.start();
  api.seed("pods", Array.from({ length: 1200 }, (_, i) => pod(`p${i}`)));
  api.seed("pods", [pod("elsewhere", { spec: { nodeName: "node-2" } })]);
  const rec = new Recorder();
  const informer = start(api, rec);
  await informer.synced;
  assert.equal(rec.names.size, 1200);
  assert.ok(!rec.names.has("elsewhere"));
  const lists = api.requestsFor("pods", "list");
  assert.equal(lists.length, 3);
  assert.equal(lists[0]!.params.get("resourceVersion"), "0");
  assert.equal(lists[0]!.params.get("limit"), "500");
  assert.equal(lists[0]!.params.get("fieldSelector"), "spec.nodeName=node-1");
  for (const l of lists.slice(1)) {
    assert.equal(l.params.get("resourceVersion"), null);
    assert.ok(l.params.get("continue"));
  }
  await informer.stop();
  await api.stop();
});

Deno.test("watch: events, bookmarks, resume from the last version after the server ends the stream", async () => {
  const api = FakeKubeApi.start({ splitEvents: 3 });
  api.seed("pods", [pod("a")]);
  const rec = new Recorder();
  const informer = start(api, rec);
  await informer.synced;
  await until(() => api.openWatches === 1, "the watch");
  const firstWatch = api.requestsFor("pods", "watch")[0]!;
  assert.equal(firstWatch.params.get("allowWatchBookmarks"), "true");
  assert.equal(firstWatch.params.get("resourceVersion"), String(api.resourceVersion));
  api.put("pods", pod("b"));
  api.put("pods", pod("a", { status: { phase: "Succeeded" } }));
  api.remove("pods", "default", "b");
  await until(() => rec.log.length === 4, "three events");
  assert.deepEqual(rec.log, ["add a", "add b", "update a", "delete b"]);
  api.put("pods", pod("other-node", { spec: { nodeName: "node-2" } }));
  api.bookmark();
  const bookmarkRv = String(api.resourceVersion);
  await new Promise((r) => setTimeout(r, 20));
  api.closeWatches();
  await until(() => api.requestsFor("pods", "watch").length === 2, "a second watch");
  assert.equal(api.requestsFor("pods", "watch")[1]!.params.get("resourceVersion"), bookmarkRv);
  assert.equal(informer.lists, 1, "no relist after a clean end");
  await informer.stop();
  await api.stop();
});

Deno.test("410: an ERROR event with code 410 relists, and what vanished meanwhile is deleted", async () => {
  const api = FakeKubeApi.start();
  api.seed("pods", [pod("a"), pod("b")]);
  const rec = new Recorder();
  const informer = start(api, rec);
  await informer.synced;
  await until(() => api.openWatches === 1, "the watch");
  api.seed("pods", [pod("c")]); // no event: only a list can find it
  api.remove("pods", "default", "a");
  await until(() => rec.log.includes("delete a"), "delete a");
  assert.ok(!rec.names.has("c"));
  api.compact();
  await until(() => rec.syncs === 2, "a complete relist");
  assert.equal(informer.lists, 2);
  assert.deepEqual([...rec.names.keys()].sort(), ["b", "c"]);
  await informer.stop();
  await api.stop();
});

Deno.test("a watch from a compacted version gets 410 and relists", async () => {
  const api = FakeKubeApi.start();
  api.seed("pods", [pod("a")]);
  const rec = new Recorder();
  const informer = start(api, rec);
  await informer.synced;
  await until(() => api.openWatches === 1, "the watch");
  api.seed("pods", [pod("z")]); // compacts history beyond the informer's version
  api.closeWatches();
  await until(() => rec.names.has("z"), "z after relist");
  assert.equal(informer.lists, 2);
  await informer.stop();
  await api.stop();
});

Deno.test("5xx and a cut list are retried with backoff; a hung watch is dropped and resumed", async () => {
  const api = FakeKubeApi.start();
  api.seed("pods", [pod("a"), pod("b")]);
  api.failNext.push(500, 503);
  api.breakNextListAfter = 120;
  const rec = new Recorder();
  const informer = start(api, rec);
  await informer.synced;
  assert.equal(api.requestsFor("pods", "list").length, 4);
  assert.equal(rec.names.size, 2);
  api.hangWatches = true;
  api.closeWatches();
  await until(() => api.requestsFor("pods", "watch").length >= 2, "a hung watch");
  api.hangWatches = false;
  await until(() => api.openWatches === 1, "a live watch after the idle timeout");
  api.put("pods", pod("c"));
  await until(() => rec.names.has("c"), "c");
  await informer.stop();
  await api.stop();
});

Deno.test("403: the error names the verb, resource and API group to grant", async () => {
  const api = FakeKubeApi.start();
  api.forbidden.add("replicasets");
  const lines: string[] = [];
  const informer = new Informer(
    new KubeClient(config(api)),
    REPLICASETS,
    { metadataOnly: true },
    projection,
    { phase: false },
    createLogger({ sink: (l) => lines.push(l) }),
    { initialMs: 5, maxMs: 10 },
  );
  informer.start();
  await until(() => informer.lastError !== undefined, "an error");
  const err = informer.lastError!;
  assert.ok(err instanceof KubeApiError);
  assert.equal(err.status, 403);
  assert.match(err.message, /verb "list" on resource "replicasets" in apiGroup apps/);
  await until(() => api.requestsFor("replicasets").length >= 3, "retries");
  assert.equal(lines.filter((l) => l.includes("403")).length, 1, "logged once per change");
  await informer.stop();
  await api.stop();
});

Deno.test("metadata-only lists and watches ask for PartialObjectMetadata and get only metadata", async () => {
  const api = FakeKubeApi.start();
  api.seed("replicasets", [{ metadata: { name: "rs", namespace: "d", uid: "u" }, spec: { x: 1 } }]);
  const seen: KubeObject[] = [];
  const client = new KubeClient(config(api));
  await client.list(
    REPLICASETS,
    { metadataOnly: true },
    (o) => seen.push(o),
    AbortSignal.timeout(5000),
  );
  assert.match(api.requests[0]!.accept, /as=PartialObjectMetadataList;g=meta.k8s.io;v=v1/);
  assert.deepEqual(Object.keys(seen[0]!).sort(), ["apiVersion", "kind", "metadata"]);
  assert.equal(seen[0]!.kind, "PartialObjectMetadata");
  client.close();
  await api.stop();
});

Deno.test("token rotation: the file is re-read, and a 401 makes the client read it again", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/token`;
  await Deno.writeTextFile(path, "token-one\n");
  const api = FakeKubeApi.start({ token: "token-one" });
  api.seed("pods", [pod("a")]);
  const cfg: KubeClientConfig = { ...config(api), token: fileTokenSource(path) };
  const client = new KubeClient(cfg);
  const signal = AbortSignal.timeout(5000);
  await client.list(PODS, {}, () => {}, signal);
  // The kubelet rotates the projected token: a new file with a different size.
  await Deno.writeTextFile(`${path}.new`, "token-two-rotated\n");
  await Deno.rename(`${path}.new`, path);
  api.token = "token-two-rotated";
  await client.list(PODS, {}, () => {}, signal);
  assert.deepEqual(
    api.requests.map((r) => r.authorization),
    ["Bearer token-one", "Bearer token-two-rotated"],
  );
  // Same size and modification time: only the 401 makes the client read the file again.
  const before = await Deno.stat(path);
  api.token = "token-2wo-rotated";
  await Deno.writeTextFile(path, "token-2wo-rotated\n");
  await Deno.utime(path, before.atime!, before.mtime!);
  await client.list(PODS, {}, () => {}, signal);
  assert.deepEqual(
    api.requests.slice(2).map((r) => r.authorization),
    ["Bearer token-two-rotated", "Bearer token-2wo-rotated"],
  );
  client.close();
  await api.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("shared informers: one watch per resource and selector for every subscriber", async () => {
  const api = FakeKubeApi.start();
  api.seed("pods", [pod("a")]);
  const common = {
    config: config(api),
    resource: PODS,
    query: { fieldSelector: "spec.nodeName=node-1" },
    projection,
    logger: nopLogger(),
  };
  const r1 = new Recorder();
  const r2 = new Recorder();
  const before = sharedInformerCount();
  const l1 = acquireInformer({ ...common, spec: { phase: false }, handler: r1 });
  await l1.informer.synced;
  await until(() => api.openWatches === 1, "the watch");
  const l2 = acquireInformer({ ...common, spec: { phase: true }, handler: r2 });
  assert.equal(l1.informer, l2.informer);
  assert.equal(sharedInformerCount(), before + 1);
  // The second subscriber needs the phase: the projection widens with one relist.
  await until(() => l1.informer.lists === 2 && r2.names.get("a")?.phase === "Running", "widened");
  await until(() => api.openWatches === 1, "one watch again");
  await l1.release();
  assert.equal(api.openWatches, 1);
  await l2.release();
  assert.equal(sharedInformerCount(), before);
  await until(() => api.openWatches === 0, "the watch closed");
  await api.stop();
});

Deno.test("backoff doubles up to the cap, with jitter in the upper half", () => {
  for (let attempt = 1; attempt <= 10; attempt++) {
    const ceiling = Math.min(30_000, 800 * 2 ** (attempt - 1));
    const d = backoffDelay(attempt);
    assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${attempt}: ${d}`);
  }
});
