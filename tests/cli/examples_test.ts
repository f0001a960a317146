/**
 * Every shipped example config validates with the real binary's entry point and flags.
 */
import assert from "node:assert/strict";
import { repoPath, runCliProcess } from "../fakes/run.ts";

const examples = [...Deno.readDirSync(repoPath("examples"))]
  .filter((e) => e.isFile && e.name.endsWith(".yaml"))
  .map((e) => e.name)
  .sort();

Deno.test("the examples folder has the node agent and audit agent configs", () => {
  assert.ok(examples.includes("node_agent.yaml"));
  assert.ok(examples.includes("audit_agent.yaml"));
});

for (const name of examples) {
  Deno.test(`examples/${name} validates`, async () => {
    const run = await runCliProcess(["validate", "--config", `examples/${name}`], {
      env: {
        GATEWAY_ENDPOINT: "http://127.0.0.1:4318",
        OTLP_ENDPOINT: "http://127.0.0.1:4318",
        KUBE_NODE_NAME: "node-1",
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /error/i);
  });
}
