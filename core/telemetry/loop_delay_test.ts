import assert from "node:assert/strict";
import { loopDelayQuantile, type LoopDelaySnapshot, startLoopDelayProbe } from "./loop_delay.ts";

Deno.test("the loop delay probe records a blocked event loop", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/loop.json`;
  const stop = startLoopDelayProbe(path, 5);
  await new Promise((r) => setTimeout(r, 30));
  const t0 = performance.now();
  while (performance.now() - t0 < 120) { /* block the loop */ }
  await new Promise((r) => setTimeout(r, 30));
  stop();
  const snap: LoopDelaySnapshot = JSON.parse(await Deno.readTextFile(path));
  assert.ok(snap.samples >= 3);
  assert.ok(snap.maxMs >= 100, `max ${snap.maxMs}`);
  assert.ok(loopDelayQuantile(undefined, snap, 1) >= 100);
  assert.equal(loopDelayQuantile(snap, snap, 0.99), 0);
  await Deno.remove(dir, { recursive: true });
});
