import assert from "node:assert/strict";
import {
  attrs,
  eventually,
  hostWithStorage,
  plainHost,
  polls,
  receiver,
  Sink,
  tempDir,
} from "./test_helpers.ts";

Deno.test("filelog reads existing lines with start_at beginning and adds log.file.name", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/a.log`, "one\ntwo\r\n\n  three  \n");
  const sink = new Sink();
  const r = receiver(
    { include: [`${dir}/*.log`], start_at: "beginning", poll_interval: "1h" },
    sink,
  );
  await r.start(plainHost);
  await polls(r);
  assert.deepEqual(sink.bodies(), ["one", "two", "three"]);
  assert.deepEqual(attrs(sink.records()[0]!.record), { "log.file.name": "a.log" });
  assert.ok(sink.records()[0]!.record.observedTimeUnixNano > 0n);
  await r.shutdown();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("filelog start_at end skips existing content but reads appended lines and new files", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/a.log`, "old\n");
  const sink = new Sink();
  const r = receiver({ include: [`${dir}/*.log`], poll_interval: "1h" }, sink);
  await r.start(plainHost);
  await polls(r);
  assert.deepEqual(sink.bodies(), []);
  await Deno.writeTextFile(`${dir}/a.log`, "new\n", { append: true });
  await Deno.writeTextFile(`${dir}/b.log`, "b1\n");
  await polls(r);
  assert.deepEqual(sink.bodies().sort(), ["b1", "new"]);
  await r.shutdown();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("filelog holds a partial line until completed, or flushes it after force_flush_period", async () => {
  const dir = await tempDir();
  const sink = new Sink();
  const r = receiver({
    include: [`${dir}/*.log`],
    start_at: "beginning",
    poll_interval: "1h",
    force_flush_period: "50ms",
  }, sink);
  await r.start(plainHost);
  await Deno.writeTextFile(`${dir}/a.log`, "first\nsec");
  await polls(r);
  assert.deepEqual(sink.bodies(), ["first"]);
  await Deno.writeTextFile(`${dir}/a.log`, "ond\nthi", { append: true });
  await polls(r);
  assert.deepEqual(sink.bodies(), ["first", "second"]);
  await polls(r); // partial unchanged: timer starts
  await new Promise((res) => setTimeout(res, 80));
  await polls(r);
  assert.deepEqual(sink.bodies(), ["first", "second", "thi"]);
  await r.shutdown();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("filelog retries a rejected batch without losing or advancing past it", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/a.log`, "x1\nx2\n");
  const store = new Map<string, Uint8Array>();
  const sink = new Sink();
  sink.failNext = [new Error("backend down"), new Error("still down")];
  const r = receiver({
    include: [`${dir}/*.log`],
    start_at: "beginning",
    poll_interval: "1h",
    storage: "file_storage",
    retry_on_failure: { enabled: true, initial_interval: "10ms", max_interval: "20ms" },
  }, sink);
  await r.start(hostWithStorage(store));
  await polls(r);
  assert.equal(sink.calls, 3);
  assert.deepEqual(sink.bodies(), ["x1", "x2"]);
  await r.shutdown();
  const saved = new TextDecoder().decode(store.get("file_input.knownFiles")!);
  assert.match(saved, /"Offset":6/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("filelog checkpoints only what the consumer accepted and resumes there", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/a.log`, "l1\nl2\n");
  const store = new Map<string, Uint8Array>();
  const cfg = {
    include: [`${dir}/*.log`],
    start_at: "end",
    poll_interval: "1h",
    storage: "file_storage",
  };
  // First run: the consumer never accepts (blocks), then shutdown gives up.
  const blocked = new Sink();
  blocked.gate = new Promise(() => {});
  const cfgBegin = { ...cfg, start_at: "beginning" };
  const r1 = receiver(cfgBegin, blocked);
  await r1.start(hostWithStorage(store));
  const p = r1.pollOnce();
  await new Promise((res) => setTimeout(res, 50));
  const stop = r1.shutdown();
  await Promise.race([p, stop]);
  await stop;
  // Nothing was accepted, so the checkpoint (if any) must not have advanced past 0.
  const saved = store.get("file_input.knownFiles");
  assert.ok(saved !== undefined, "a checkpoint is written at shutdown");
  assert.match(new TextDecoder().decode(saved), /"Offset":0,/);
  // Second run (start_at end must not apply to a checkpointed file): everything arrives.
  await Deno.writeTextFile(`${dir}/a.log`, "l3\n", { append: true });
  const sink = new Sink();
  const r2 = receiver(cfg, sink);
  await r2.start(hostWithStorage(store));
  await polls(r2);
  assert.deepEqual(sink.bodies(), ["l1", "l2", "l3"]);
  await r2.shutdown();
  // Third run: nothing new, nothing repeated.
  const sink3 = new Sink();
  const r3 = receiver(cfg, sink3);
  await r3.start(hostWithStorage(store));
  await Deno.writeTextFile(`${dir}/a.log`, "l4\n", { append: true });
  await polls(r3, 2);
  assert.deepEqual(sink3.bodies(), ["l4"]);
  await r3.shutdown();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("filelog reads a backlog in rounds without waiting for poll_interval between them", async () => {
  const dir = await tempDir();
  const text = Array.from({ length: 8000 }, (_, i) => `${i} ${"x".repeat(90)}\n`);
  await Deno.writeTextFile(`${dir}/a.log`, text.join(""));
  const sink = new Sink();
  const r = receiver(
    { include: [`${dir}/*.log`], start_at: "beginning", poll_interval: "1h" },
    sink,
    undefined,
    { readBudget: 1 }, // one read per poll
  );
  await r.start(plainHost);
  await eventually("the backlog is read", () => sink.bodies().length === 8000);
  assert.deepEqual(sink.bodies().map((b) => b.split(" ")[0]), text.map((_, i) => String(i)));
  await r.shutdown();
  await Deno.remove(dir, { recursive: true });
});
