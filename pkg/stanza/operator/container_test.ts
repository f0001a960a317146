import assert from "node:assert/strict";
import { newEntry, type Value } from "../entry.ts";
import { testPipeline } from "../testing.ts";
import type { Entry } from "../entry.ts";
import { Pipeline } from "./registry.ts";

const PATH =
  "/var/log/pods/kube-system_coredns-5d78c9869d-abcde_0f6c7a2e-1b2c-4d5e-8f90-123456789abc/coredns/2.log";

function run(
  op: Record<string, unknown>,
  lines: string[],
  path = PATH,
): { out: Entry[]; errors: number; p: Pipeline } {
  const { p, out, errors } = testPipeline([op]);
  lines.forEach((l, i) => {
    const e = newEntry(l, 1n);
    e.attributes["log.file.path"] = path;
    e.src = { sourceId: 7, seq: i * 100, position: i };
    p.process(e);
  });
  return { out, errors: errors.length, p };
}

Deno.test("container parses containerd lines with exact nanosecond time and k8s resource", () => {
  const { out } = run({ type: "container" }, [
    "2024-05-01T12:34:56.123456789Z stdout F hello world",
    "2024-05-01T12:34:56.000000001Z stderr F oops",
  ]);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.body, "hello world");
  assert.equal(out[0]!.timestamp, 1714566896123456789n);
  assert.equal(out[1]!.timestamp, 1714566896000000001n);
  assert.deepEqual(out[0]!.attributes, {
    "log.file.path": PATH,
    "log.iostream": "stdout",
    "logtag": "F",
  });
  assert.deepEqual(out[0]!.resource, {
    "k8s.pod.name": "coredns-5d78c9869d-abcde",
    "k8s.container.restart_count": "2",
    "k8s.pod.uid": "0f6c7a2e-1b2c-4d5e-8f90-123456789abc",
    "k8s.container.name": "coredns",
    "k8s.namespace.name": "kube-system",
  });
  assert.equal(out[1]!.attributes["log.iostream"], "stderr");
});

Deno.test("container parses CRI-O lines with a zone offset", () => {
  const { out } = run({ type: "container", format: "crio" }, [
    "2024-05-01T14:34:56.5+02:00 stdout F x",
  ]);
  assert.equal(out[0]!.timestamp, 1714566896500000000n);
});

Deno.test("container recombines CRI partial lines per stream and keeps the first piece's position", () => {
  const { out, p } = run({ type: "container" }, [
    "2024-05-01T12:00:00.1Z stdout P part1-",
    "2024-05-01T12:00:00.2Z stderr F err",
    "2024-05-01T12:00:00.3Z stdout P part2-",
  ]);
  assert.deepEqual(out.map((e) => e.body), ["err"]);
  assert.deepEqual(p.held(7), { sourceId: 7, seq: 0, position: 0 });
  const e = newEntry("2024-05-01T12:00:00.4Z stdout F end", 1n);
  e.attributes["log.file.path"] = PATH;
  e.src = { sourceId: 7, seq: 300, position: 3 };
  p.process(e);
  assert.deepEqual(out.map((e) => e.body), ["err", "part1-part2-end"]);
  assert.equal(out[1]!.attributes["logtag"], "F");
  assert.equal(out[1]!.src?.seq, 0);
  assert.equal(p.held(7), undefined);
});

Deno.test("container flushes a recombined line at max_log_size", () => {
  const { out } = run({ type: "container", max_log_size: 10 }, [
    "2024-05-01T12:00:00Z stdout P 123456",
    "2024-05-01T12:00:00Z stdout P 789012",
    "2024-05-01T12:00:00Z stdout F end",
  ]);
  assert.deepEqual(out.map((e) => e.body), ["123456", "789012end"]);
});

Deno.test("container parses docker json-file lines and joins 16 KiB pieces", () => {
  const { out } = run({ type: "container" }, [
    '{"log":"piece one ","stream":"stdout","time":"2024-05-01T12:00:00.000000002Z"}',
    '{"log":"and two\\n","stream":"stdout","time":"2024-05-01T12:00:00.000000003Z"}',
    '{"log":"single\\n","stream":"stderr","time":"2024-05-01T12:00:00.5Z"}',
  ]);
  assert.deepEqual(out.map((e) => e.body), ["piece one and two\n", "single\n"]);
  assert.equal(out[0]!.timestamp, 1714564800000000003n);
  assert.equal(out[1]!.attributes["log.iostream"], "stderr");
  assert.equal(out[1]!.resource["k8s.namespace.name"], "kube-system");
});

Deno.test("container reports bad lines per on_error and a missing path attribute", () => {
  const bad = run({ type: "container" }, [
    "not a container line",
    "2024-13-01T00:00:00Z stdout F x",
  ]);
  assert.equal(bad.errors, 2);
  assert.deepEqual(bad.out.map((e) => e.body as Value), [
    "not a container line",
    "2024-13-01T00:00:00Z stdout F x",
  ]);
  const dropped = run({ type: "container", on_error: "drop_quiet" }, ["garbage"]);
  assert.equal(dropped.out.length, 0);
  const noPath = run(
    { type: "container" },
    ["2024-05-01T12:00:00Z stdout F x"],
    "/tmp/not-a-pod.log",
  );
  assert.equal(noPath.errors, 1);
  const noMeta = run({ type: "container", add_metadata_from_filepath: false }, [
    "2024-05-01T12:00:00Z stdout F x",
  ], "/tmp/x.log");
  assert.equal(noMeta.errors, 0);
  assert.deepEqual(noMeta.out[0]!.resource, {});
});
