/**
 * Every kustomization under deploy/kubernetes renders with `kubectl kustomize`, and every
 * rendered object validates against the Kubernetes OpenAPI schemas.
 *
 * Without kubectl these tests are skipped with a message, except under CI (`CI` set), where
 * .ci/run installs Debian's kubernetes-client and a missing kubectl is a failure.
 */

import assert from "node:assert/strict";
import {
  describe,
  findKubectl,
  type K8sObject,
  KUSTOMIZATIONS,
  render,
  validateObject,
} from "./_render.ts";

const kubectl = findKubectl();
const inCi = (Deno.env.get("CI") ?? "") !== "";

if (kubectl === undefined && !inCi) {
  console.warn(
    "tests/deploy: kubectl not found (set KUBECTL or install kubernetes-client); skipped",
  );
}

Deno.test({
  name: "deploy: kubectl is available under CI",
  ignore: !inCi,
  fn() {
    assert.ok(kubectl, "CI must render the manifests: .ci/run installs kubernetes-client");
  },
});

for (const dir of KUSTOMIZATIONS) {
  Deno.test({
    name: `deploy: ${dir} renders and every object validates against its schema`,
    ignore: kubectl === undefined,
    fn() {
      const objects = render(kubectl!, dir);
      assert.ok(objects.length > 0, `${dir} rendered nothing`);
      const problems: string[] = [];
      for (const obj of objects) {
        try {
          validateObject(obj);
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      assert.deepEqual(problems, []);
      const names = objects.map(describe);
      assert.equal(new Set(names).size, names.length, "no object twice");
    },
  });
}

Deno.test({
  name: "deploy: the schema validation rejects a broken object (the check can fail)",
  fn() {
    const broken: K8sObject = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "x" },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: {
          spec: {
            containers: [{ name: "c", image: "i", securityContext: { runAsUser: "1000" } }],
          },
        },
      },
    };
    assert.throws(() => validateObject(broken), /runAsUser must be integer/);
    assert.throws(
      () => validateObject({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } }),
      /no schema known/,
    );
  },
});
