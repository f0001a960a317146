/**
 * The namespace and privacy examples do what their comments say: each is loaded with the
 * real config loader and validator (`tests/cli/examples_test.ts` also runs `validate` on
 * them through the binary's entry point), then its components are run on sample data.
 */

import assert from "node:assert/strict";
import { BUILTIN_FACTORIES } from "../../components.ts";
import type { ProcessorFactory } from "../../core/component.ts";
import { loadConfig } from "../../core/config/load.ts";
import { ConfigIssues } from "../../core/config/reader.ts";
import type { AnyValue, Logs } from "../../core/pdata/logs.ts";
import { newLogRecord, newResource, newScope, stringValue } from "../../core/pdata/logs.ts";
import { Registry } from "../../core/registry.ts";
import { type CollectorConfig, parseCollectorConfig } from "../../core/service/config.ts";
import type { FilelogConfig } from "../../receivers/filelog/config.ts";
import { Finder } from "../../receivers/filelog/glob.ts";
import { capture, testSettings } from "../fakes/component_harness.ts";
import { repoPath } from "../fakes/run.ts";

const ENV: Record<string, string> = {
  GATEWAY_ENDPOINT: "http://127.0.0.1:4318",
  OTLP_ENDPOINT: "http://127.0.0.1:4318",
};

async function loadExample(name: string): Promise<CollectorConfig> {
  const issues = new ConfigIssues();
  const root = await loadConfig([repoPath(`examples/${name}`)], [], { env: (k) => ENV[k] }, issues);
  const config = parseCollectorConfig(root, new Registry(BUILTIN_FACTORIES), issues);
  assert.deepEqual(issues.list, [], `examples/${name}`);
  return config;
}

Deno.test("examples/hash_user_id.yaml: user.id is hashed (stably), user.email is gone, the rest untouched", async () => {
  const cfg = await loadExample("hash_user_id.yaml");
  const c = cfg.processors.get("attributes/pseudonymise")!;
  assert.deepEqual(cfg.pipelines[0]!.processors[0], "attributes/pseudonymise", "it runs first");
  const next = capture();
  const proc = (c.factory as ProcessorFactory).create(
    testSettings("attributes/pseudonymise"),
    c.config,
    next,
  );
  const rec = (id: string) =>
    newLogRecord({
      body: stringValue("login"),
      attributes: [
        { key: "user.id", value: stringValue(id) },
        { key: "user.email", value: stringValue(`${id}@example.com`) },
        { key: "http.route", value: stringValue("/login") },
      ],
    });
  const logs: Logs = {
    resourceLogs: [{
      schemaUrl: "",
      resource: newResource(),
      scopeLogs: [{
        schemaUrl: "",
        scope: newScope(),
        logRecords: [rec("u-1"), rec("u-1"), rec("u-2")],
      }],
    }],
  };
  await proc.consume(logs, {});
  const out = next.batches[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) =>
    Object.fromEntries(
      r.attributes.map((a) => [a.key, (a.value as AnyValue & { kind: "string" }).value]),
    )
  );
  for (const attrs of out) {
    assert.deepEqual(Object.keys(attrs), ["user.id", "http.route"]);
    assert.match(attrs["user.id"]!, /^[0-9a-f]{64}$/);
    assert.equal(attrs["http.route"], "/login");
  }
  assert.equal(out[0]!["user.id"], out[1]!["user.id"]);
  assert.notEqual(out[0]!["user.id"], out[2]!["user.id"]);
});

Deno.test("examples/namespaces_except_kube_system.yaml: kube-system's files are never found", async () => {
  const cfg = await loadExample("namespaces_except_kube_system.yaml");
  const filelog = cfg.receivers.get("filelog")!.config as FilelogConfig;
  const dir = await Deno.makeTempDir();
  try {
    const pods = [
      "kube-system_coredns-5d78c9869d-abcde_1111/coredns",
      "kube-system_kube-proxy-x7k2p_2222/kube-proxy",
      "default_web-7f9c6b8d4-qwert_3333/web",
      "kube-systemd_agent-1_4444/agent", // a namespace that only starts like kube-system
    ];
    for (const p of pods) {
      await Deno.mkdir(`${dir}/${p}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/${p}/0.log`, "");
    }
    // The example's globs, re-rooted from /var/log/pods to the temporary directory.
    const reroot = (g: string): string => {
      assert.ok(g.startsWith("/var/log/pods/"), g);
      return dir + g.slice("/var/log/pods".length);
    };
    const finder = new Finder(filelog.include.map(reroot), filelog.exclude.map(reroot));
    const found = finder.find().map((f) => f.slice(dir.length + 1)).sort();
    assert.deepEqual(found, [
      "default_web-7f9c6b8d4-qwert_3333/web/0.log",
      "kube-systemd_agent-1_4444/agent/0.log",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
