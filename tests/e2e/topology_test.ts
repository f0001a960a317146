/**
 * The whole topology as separate processes, under normal running: the generator writes and
 * rotates kubelet-style files, the agent (the DaemonSet's config) ships them to the gateway
 * (the Deployment's config), which enriches them from the fake Kubernetes API and exports
 * to the sink. Every line arrives exactly once, with its pod's metadata. The agent runs as its
 * DaemonSet runs the agent binary where the machine allows it (`agentHooks`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { demoPods } from "../../demo/pods.ts";
import { drainAll, sleep, startE2eTopology } from "./_helpers.ts";

Deno.test({
  name: "e2e: every generated line arrives exactly once, enriched with its pod's metadata",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { t, agent } = await startE2eTopology();
    try {
      await sleep(12_000);
      const { written, records, lines, stats } = await drainAll(t, 60_000);
      await sleep(1500); // anything sent twice would arrive by now
      const end = await t.stats();
      const status = await t.written();
      const check = await t.check(records);
      console.log(
        `${agent}: written ${written} records (${lines} CRI lines), ${status.rotations} rotations, ` +
          `${status.gzipped} gzipped; arrived ${end.unique}, duplicates ${end.duplicates}`,
      );
      assert.ok(status.rotations > 0 && status.gzipped > 0, "the run rotated and gzipped files");
      assert.ok(lines > written, "some records were written as P/F pieces");
      assert.deepEqual(check, { missing: 0, missingExamples: [], unexpected: 0 });
      assert.equal(end.unique, written);
      assert.equal(end.duplicates, 0);
      assert.equal(end.tracked, written);
      assert.equal(end.notEnriched, 0, end.enrichmentErrors.join("\n"));
      // Per namespace, as written.
      const want: Record<string, number> = {};
      for (const p of demoPods()) want[p.namespace] = (want[p.namespace] ?? 0) + records[p.index]!;
      assert.deepEqual(end.perNamespace, want);
      assert.ok(
        stats.lastResource["k8s.deployment.name"] || stats.lastResource["k8s.statefulset.name"],
      );
    } finally {
      await t.stop();
    }
  },
});
