/**
 * The whole topology under faults while the generator writes and rotates: the agent
 * SIGKILLed and restarted three times, the gateway SIGKILLed and restarted, the sink
 * answering 503 for a while. After recovery every line has arrived; duplicates are counted,
 * reported and bounded. The agent runs as its DaemonSet runs the agent binary (uid 1000, the
 * agent profile's flags) where the machine allows it (`agentHooks`), so it is that process
 * which is killed and restarted.
 *
 * The bound checked (at-least-once, from the design): a line arrives twice only when a
 * fault cut its acknowledgement — the agent re-reads what it read after its last checkpoint
 * (taken as batches are accepted, at least every second) and resends the persistent queue's
 * batch in flight; the gateway's caller resends a request the dead gateway had already
 * exported. So the first copy of every duplicate reached the sink at most 5 s before a fault
 * began and at most 5 s after it ended (the process ready again, the sink answering again).
 *
 * Not covered: a rotation while the agent is down. The rotated file (`0.log.<timestamp>`)
 * no longer matches the DaemonSet's `*.log` include, so what the agent had not read of it
 * before dying is not read after the restart (as upstream with the same glob); the test
 * pauses rotation around each agent kill.
 *
 * @module
 */

import assert from "node:assert/strict";
import { drainAll, sleep, startE2eTopology } from "./_helpers.ts";

const MARGIN_MS = 5_000;

Deno.test({
  name:
    "e2e: agent and gateway SIGKILLed, sink answering 503 — every line arrives, duplicates bounded",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { t, agent } = await startE2eTopology();
    const faults: { what: string; start: number; end: number }[] = [];
    try {
      await sleep(4_000);
      for (let i = 0; i < 3; i++) {
        await t.command("pause-rotation");
        await sleep(1_200); // the agent has seen the last rotation
        const start = Date.now();
        await t.agent!.kill();
        await t.startAgent();
        faults.push({ what: `agent kill ${i + 1}`, start, end: Date.now() });
        await t.command("resume-rotation");
        await sleep(3_000);
      }
      {
        const start = Date.now();
        await t.gateway!.kill();
        await sleep(2_000);
        await t.startGateway();
        faults.push({ what: "gateway kill", start, end: Date.now() });
        await sleep(3_000);
      }
      {
        const start = Date.now();
        await t.sinkFails(503);
        await sleep(6_000);
        await t.sinkFails(0);
        faults.push({ what: "sink 503", start, end: Date.now() });
      }
      await sleep(3_000);
      const { written, records } = await drainAll(t, 90_000);
      await sleep(2_000);
      const end = await t.stats();
      const status = await t.written();
      const check = await t.check(records);
      const outside = end.duplicateFirstSeen.filter((ms) =>
        !faults.some((f) => ms >= f.start - MARGIN_MS && ms <= f.end + MARGIN_MS)
      );
      // Each duplicate counted once, at the first fault whose window holds it.
      const near = faults.map(() => 0);
      for (const ms of end.duplicateFirstSeen) {
        const i = faults.findIndex((f) => ms >= f.start - MARGIN_MS && ms <= f.end + MARGIN_MS);
        if (i >= 0) near[i]!++;
      }
      console.log(
        `${agent}: written ${written} records, ${status.rotations} rotations; arrived ${end.unique}; ` +
          `${end.duplicates} duplicates (${(end.duplicates / written * 100).toFixed(2)} %); ` +
          `${end.refused} requests refused with 503; faults (down time, duplicates near it): ${
            faults.map((f, i) => `${f.what} ${f.end - f.start} ms ${near[i]}`).join(", ")
          }`,
      );
      assert.deepEqual(check, { missing: 0, missingExamples: [], unexpected: 0 });
      assert.equal(end.unique, written);
      assert.ok(end.refused > 0, "the sink refused requests while answering 503");
      assert.equal(end.notEnriched, 0, end.enrichmentErrors.join("\n"));
      assert.ok(end.duplicates <= end.duplicateFirstSeen.length, "every duplicate has a time");
      assert.deepEqual(
        outside.length,
        0,
        `${outside.length} duplicates whose first copy arrived away from every fault`,
      );
    } finally {
      await t.stop();
    }
  },
});
