/**
 * The RBAC the policy tests demand (tests/deploy/_rbac.ts) is what the k8sattributes
 * processor actually lists and watches: its informer plans, for the shipped configs and for
 * the options that start more informers.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { k8sAttributesFactory } from "../../processors/k8sattributes/mod.ts";
import { informerPlans } from "../../processors/k8sattributes/processor.ts";
import { k8sattributesResources } from "./_rbac.ts";
import { DEPLOY_DIR, type K8sObject } from "./_render.ts";

/** The resources the processor's informers use for `cfg`, as `group/plural`. */
function planned(cfg: K8sObject): string[] {
  const issues = new ConfigIssues();
  // The node filter narrows the pod watch, not the resources: leave the variable out.
  const { node_from_env_var: _, ...filter } = cfg.filter ?? {};
  const r = new ConfigReader(fromPlain({ ...cfg, filter }), "processors::k8sattributes", issues);
  const parsed = k8sAttributesFactory.parseConfig(r);
  r.done();
  assert.deepEqual(issues.errors.map((e) => `${e.path}: ${e.message}`), []);
  return Object.values(informerPlans(parsed)).map((p) => `${p.resource.group}/${p.resource.plural}`)
    .sort();
}

const shipped = ["agent/agent.yaml", "gateway/gateway.yaml"].map((f) =>
  parse(Deno.readTextFileSync(DEPLOY_DIR + f)).processors.k8sattributes
);
const variants: K8sObject[] = [
  {},
  { extract: { metadata: ["k8s.pod.name", "k8s.deployment.uid"] } },
  { extract: { metadata: ["k8s.node.uid"] } },
  { extract: { metadata: ["k8s.cronjob.uid", "k8s.cluster.uid"] } },
  { extract: { labels: [{ key: "team", from: "namespace" }, { key: "zone", from: "node" }] } },
];

Deno.test("deploy rbac: the demanded resources are the processor's informers", () => {
  for (const cfg of [...shipped, ...variants]) {
    assert.deepEqual(k8sattributesResources(cfg), planned(cfg), JSON.stringify(cfg));
  }
});
