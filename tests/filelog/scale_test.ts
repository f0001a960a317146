/**
 * Many files and a high create/delete rate.
 */
import assert from "node:assert/strict";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { plainHost, receiver, Sink } from "../../receivers/filelog/test_helpers.ts";

Deno.test("10,000 files: every line read once, an idle poll reads nothing, handles stay capped", async () => {
  const root = await Deno.makeTempDir({ prefix: "filelog_10k_" });
  const n = 10_000;
  for (let d = 0; d < 100; d++) {
    const dir = `${root}/d${d}`;
    await Deno.mkdir(dir);
    for (let f = 0; f < n / 100; f++) {
      await Deno.writeTextFile(`${dir}/f${f}.log`, `line ${d}/${f}\n`);
    }
  }
  const sink = new Sink();
  const metrics = new MetricsRegistry();
  const r = receiver(
    {
      include: [`${root}/**/*.log`],
      start_at: "beginning",
      poll_interval: "1h",
      max_concurrent_files: 256,
    },
    sink,
    metrics,
  );
  await r.start(plainHost);
  await r.pollOnce();
  assert.equal(sink.bodies().length, n);
  assert.equal(new Set(sink.bodies()).size, n);
  assert.ok(metrics.value("otelcol_fileconsumer_open_files", { receiver: "filelog" })! <= 256);
  await r.pollOnce();
  assert.equal(sink.bodies().length, n);
  await Deno.writeTextFile(`${root}/d7/f3.log`, "more\n", { append: true });
  await r.pollOnce();
  assert.deepEqual(sink.bodies().slice(n), ["more"]);
  await r.shutdown();
  await Deno.remove(root, { recursive: true });
});

Deno.test("files created and deleted at a high rate: no crash, no duplicates, nothing invented", async () => {
  const root = await Deno.makeTempDir({ prefix: "filelog_churn_" });
  const sink = new Sink();
  const r = receiver(
    { include: [`${root}/*.log`], start_at: "beginning", poll_interval: "2ms" },
    sink,
  );
  await r.start(plainHost);
  const written = new Set<string>();
  const live: string[] = [];
  let id = 0;
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    const path = `${root}/f${id}.log`;
    const line = `churn ${id++}`;
    await Deno.writeTextFile(path, `${line}\n`);
    written.add(line);
    live.push(path);
    if (live.length > 20) await Deno.remove(live.shift()!);
    if (id % 50 === 0) await new Promise((res) => setTimeout(res, 1));
  }
  await Deno.writeTextFile(`${root}/final.log`, "final\n");
  for (let i = 0; i < 5; i++) await r.pollOnce();
  await r.shutdown();
  const got = sink.bodies();
  assert.equal(new Set(got).size, got.length, "no duplicates");
  assert.ok(got.every((b) => b === "final" || written.has(b)));
  assert.ok(got.includes("final"));
  // Files that were still there at the end were all read.
  for (const p of live) {
    const line = (await Deno.readTextFile(p)).trim();
    assert.ok(got.includes(line), line);
  }
  await Deno.remove(root, { recursive: true });
});
