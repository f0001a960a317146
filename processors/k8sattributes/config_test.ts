import assert from "node:assert/strict";
import { parse } from "./_test_helpers.ts";
import { DEFAULT_METADATA } from "./config.ts";
import { k8sAttributesFactory } from "./mod.ts";

Deno.test("defaults as upstream", () => {
  const { cfg, errors } = parse({});
  assert.deepEqual(errors, []);
  assert.equal(cfg.authType, "serviceAccount");
  assert.equal(cfg.passthrough, false);
  assert.deepEqual(cfg.extract.metadata, DEFAULT_METADATA);
  assert.deepEqual(cfg.excludePods.map((r) => r.source), ["jaeger-agent", "jaeger-collector"]);
  assert.equal(cfg.waitForMetadata, false);
  assert.equal(cfg.waitForMetadataTimeoutMs, 10_000);
  assert.deepEqual(cfg.podAssociation, []);
  assert.equal(k8sAttributesFactory.type, "k8sattributes");
  assert.deepEqual(k8sAttributesFactory.aliases, ["k8s_attributes"]);
});

Deno.test("label rules: default tag names, key and key_regex", () => {
  const { cfg, errors } = parse({
    extract: {
      labels: [{ key: "app" }, { key_regex: "team/(.*)", from: "namespace" }],
      annotations: [{ key: "a", from: "node", tag_name: "x" }],
    },
  });
  assert.deepEqual(errors, []);
  assert.equal(cfg.extract.labels[0]!.tagName, "k8s.pod.labels.app");
  assert.equal(cfg.extract.labels[1]!.tagName, "k8s.namespace.labels.$0");
  assert.ok(cfg.extract.labels[1]!.keyRegex!.test("team/a"));
  assert.ok(!cfg.extract.labels[1]!.keyRegex!.test("x-team/a"), "anchored");
  assert.equal(cfg.extract.annotations[0]!.tagName, "x");
});

Deno.test("validation errors name the key and what to do", () => {
  Deno.env.delete("K8SATTR_UNSET_NODE");
  const { errors } = parse({
    auth_type: "tls",
    filter: { node_from_env_var: "K8SATTR_UNSET_NODE", fields: [{ key: "a", op: "exists" }] },
    extract: {
      metadata: ["k8s.pod.name", "k8s.pod.nam"],
      labels: [{ key: "a", key_regex: "b" }, { tag_name: "t" }, { key_regex: "(" }],
      annotations: [{ key: "a", regex: "x" }],
    },
    pod_association: [
      { sources: [1, 2, 3, 4, 5].map(() => ({ from: "connection" })) },
      { sources: [{ from: "resource_attribute" }] },
      { sources: [{ from: "resource_attribute", name: "k8s.pod.label" }] },
    ],
    exclude: { pods: [{ name: "[" }] },
    unknown_key: 1,
  });
  const text = errors.join("\n");
  for (
    const expected of [
      /auth_type: Invalid value "tls"/,
      /filter::node_from_env_var: Environment variable K8SATTR_UNSET_NODE is not set/,
      /filter::fields::0::op: Invalid value "exists"/,
      /extract::metadata::1: Unknown metadata "k8s.pod.nam"/,
      /extract::labels::0::key_regex: Set either "key" or "key_regex", not both/,
      /extract::labels::1: Set "key" \(an exact name\) or "key_regex"/,
      /extract::labels::2::key_regex: Invalid regular expression/,
      /extract::annotations::0::regex: Removed upstream/,
      /pod_association::0::sources: At most 4 sources per rule/,
      /pod_association::1::sources::0::name: Required with from: resource_attribute/,
      /pod_association::2::sources::0::name: Association by "k8s.pod.label" is not supported/,
      /exclude::pods::0::name: Invalid regular expression/,
      /unknown_key/,
    ]
  ) assert.match(text, expected);
});
