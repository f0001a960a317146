/**
 * Replays kubelet's and kube-apiserver's log rotation while the receiver restarts several
 * times (some rotations happen while it is down) and the consumer rejects some batches:
 * the set of records received must equal the set written, each exactly once.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { hostWithStorage, receiver, Sink } from "../../receivers/filelog/test_helpers.ts";

const enc = new TextEncoder();

class World {
  readonly written: string[] = [];
  #seq = 0;
  #rot = 0;
  constructor(readonly podLog: string, readonly auditLog: string) {}

  async write(n: number): Promise<void> {
    const pod: string[] = [];
    const audit: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = this.#seq++;
      const ts = new Date(Date.UTC(2024, 4, 1, 12, 0, 0) + id).toISOString().replace(
        "Z",
        "000000Z",
      );
      pod.push(`${ts} stdout F pod line ${id}`);
      audit.push(`{"kind":"Event","auditID":"a-${id}","stageTimestamp":"${ts}"}`);
    }
    this.written.push(...pod.map((l) => l.slice(l.indexOf(" F ") + 3)), ...audit);
    await Deno.writeFile(this.podLog, enc.encode(pod.join("\n") + "\n"), { append: true });
    await Deno.writeFile(this.auditLog, enc.encode(audit.join("\n") + "\n"), { append: true });
  }

  /** kubelet: gzip the previous rotated file, rename 0.log to 0.log.<ts>, reopen 0.log. */
  async rotatePod(): Promise<void> {
    const dir = this.podLog.slice(0, this.podLog.lastIndexOf("/"));
    for await (const e of Deno.readDir(dir)) {
      if (/^0\.log\.\d+-\d+$/.test(e.name)) {
        const p = `${dir}/${e.name}`;
        await Deno.writeFile(`${p}.gz`, gzipSync(await Deno.readFile(p)));
        await Deno.remove(p);
      }
    }
    const stamp = `20240501-${String(120000 + this.#rot++).padStart(6, "0")}`;
    await Deno.rename(this.podLog, `${this.podLog}.${stamp}`);
  }

  /** kube-apiserver: rename audit.log to audit-<ts>.log and start a new one. */
  async rotateAudit(): Promise<void> {
    const dir = this.auditLog.slice(0, this.auditLog.lastIndexOf("/"));
    await Deno.rename(
      this.auditLog,
      `${dir}/audit-2024-05-01T12-00-${String(this.#rot++).padStart(2, "0")}.000.log`,
    );
  }
}

Deno.test("kubelet and kube-apiserver rotation across receiver restarts: received set == written set, once each", async () => {
  const root = await Deno.makeTempDir({ prefix: "filelog_replay_" });
  const podDir = `${root}/pods/default_web-1_0f6c7a2e-1b2c-4d5e-8f90-123456789abc/web`;
  const auditDir = `${root}/audit`;
  await Deno.mkdir(podDir, { recursive: true });
  await Deno.mkdir(auditDir, { recursive: true });
  const world = new World(`${podDir}/0.log`, `${auditDir}/audit.log`);
  const store = new Map<string, Uint8Array>();
  const cfg = {
    include: [`${root}/pods/*/*/*.log`, `${auditDir}/audit.log`],
    start_at: "end",
    include_file_path: true,
    poll_interval: "1h",
    storage: "file_storage",
    retry_on_failure: { enabled: true, initial_interval: "1ms", max_interval: "2ms" },
    operators: [
      {
        type: "router",
        routes: [{ expr: 'body matches "^\\\\{"', output: "audit" }],
        default: "container-parser",
      },
      { type: "container", id: "container-parser", output: "end" },
      { type: "json_parser", id: "audit", output: "end" },
      { type: "noop", id: "end" },
    ],
  };
  const received: string[] = [];
  const collect = (s: Sink): void => {
    for (const { record } of s.records()) {
      const b = record.body;
      received.push(b?.kind === "string" ? b.value : "");
    }
  };
  await world.write(5); // before the first start: start_at end skips these
  world.written.length = 0;
  let first = true;
  for (let run = 0; run < 6; run++) {
    const sink = new Sink();
    sink.failNext = [new Error("export failed"), new Error("export failed")];
    const r = receiver(first ? cfg : { ...cfg, start_at: "beginning" }, sink);
    first = false;
    await r.start(hostWithStorage(store));
    await r.pollOnce();
    for (let step = 0; step < 4; step++) {
      await world.write(30 + step);
      if ((run + step) % 3 === 0) await world.rotatePod();
      if ((run + step) % 4 === 1) await world.rotateAudit();
      await world.write(7);
      await r.pollOnce();
    }
    await world.write(11);
    await r.pollOnce();
    await r.shutdown();
    collect(sink);
    // Rotations while the receiver is down.
    await world.write(13);
    if (run % 2 === 0) await world.rotatePod();
    if (run % 3 === 0) await world.rotateAudit();
    await world.write(3);
  }
  // A last run to pick up what was written while down.
  const sink = new Sink();
  const r = receiver(cfg, sink);
  await r.start(hostWithStorage(store));
  for (let i = 0; i < 5; i++) await r.pollOnce();
  await r.shutdown();
  collect(sink);

  const audit = received.filter((b) => b.startsWith("{"));
  assert.ok(audit.length > 0);
  const writtenSet = new Set(world.written);
  const missing = world.written.filter((w) => !received.includes(w));
  const extra = received.filter((b) => !writtenSet.has(b));
  assert.deepEqual(missing, [], `${missing.length} missing`);
  assert.deepEqual(extra, []);
  assert.equal(received.length, world.written.length, "no duplicates");
  await Deno.remove(root, { recursive: true });
});
