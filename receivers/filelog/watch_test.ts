/**
 * Change notifications as hints: the background loop (not `pollOnce`, which always
 * sweeps) must read every change while stat'ing only what events named, and fall back to
 * polling whenever the hints cannot be trusted, without losing a line.
 */
import assert from "node:assert/strict";
import type { FilelogReceiver } from "./receiver.ts";
import { eventually, plainHost, receiver, Sink, tempDir } from "./test_helpers.ts";
import type { ReceiverOptions } from "./receiver.ts";
import { ChangeWatcher } from "./watch.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";

const CRI = "2024-05-01T12:00:00.000000001Z stdout F";

async function podLog(root: string, pod: string, lines: string[]): Promise<string> {
  const dir = `${root}/pods/ns_${pod}_0f6c7a2e-1b2c-4d5e-8f90-123456789abc/app`;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/0.log`;
  await append(path, lines);
  return path;
}

async function append(path: string, lines: string[]): Promise<void> {
  await Deno.writeTextFile(path, lines.map((l) => `${CRI} ${l}\n`).join(""), { append: true });
}

/** A receiver polling every 20ms in the background; sweeps only every `sweepMs`. */
async function started(
  root: string,
  sink: Sink,
  options: ReceiverOptions = {},
  include = `${root}/pods/*/*/*.log`,
): Promise<FilelogReceiver> {
  const r = receiver(
    {
      include: [include],
      start_at: "beginning",
      poll_interval: "20ms",
      include_file_path: true, // the container operator reads pod metadata from it
      operators: [{ type: "container", add_metadata_from_filepath: false }],
    },
    sink,
    undefined,
    { sweepMs: 3_600_000, ...options },
  );
  await r.start(plainHost);
  return r;
}

/** Waits until the receiver trusts notifications and did a hinted poll that stat'ed nothing. */
async function idleHinted(r: FilelogReceiver, expectChecked = 0): Promise<void> {
  await eventually("notifications are in use", () => r.watching);
  await eventually(
    "a hinted poll with nothing to look at",
    () => !r.tracker.lastPoll.sweep && r.tracker.lastPoll.checked === expectChecked,
  );
}

Deno.test("with notifications an idle poll stats nothing, and appends and new pods are still read", async () => {
  const root = await tempDir();
  const files: string[] = [];
  for (let i = 0; i < 20; i++) files.push(await podLog(root, `p${i}`, [`start ${i}`]));
  const sink = new Sink();
  const r = await started(root, sink);
  await eventually("existing lines read", () => sink.bodies().length === 20);
  await idleHinted(r);
  await append(files[7]!, ["appended"]);
  await eventually("the append is read", () => sink.bodies().includes("appended"));
  // A pod created after start: new directories two levels below the watched root.
  await podLog(root, "late", ["from a new pod"]);
  await eventually("the new pod is read", () => sink.bodies().includes("from a new pod"));
  assert.equal(r.watching, true, "no sweep (sweep interval 1h) and no fallback were needed");
  await r.shutdown();
  assert.equal(new Set(sink.bodies()).size, 22);
  await Deno.remove(root, { recursive: true });
});

Deno.test("with notifications, kubelet rotation gives every line once, tail after the rename included", async () => {
  const root = await tempDir();
  const path = await podLog(root, "rot", ["a1", "a2"]);
  const sink = new Sink();
  const r = await started(root, sink);
  await idleHinted(r);
  await append(path, ["a3"]);
  await Deno.rename(path, `${path}.20240501-120000`);
  await append(`${path}.20240501-120000`, ["a4 tail after rename"]);
  await append(path, ["b1", "b2"]);
  await eventually("the new file is read", () => sink.bodies().includes("b2"));
  await append(path, ["b3"]);
  await eventually("b3 is read", () => sink.bodies().includes("b3"));
  assert.equal(r.watching, true);
  await r.shutdown();
  assert.deepEqual(sink.bodies(), ["a1", "a2", "a3", "a4 tail after rename", "b1", "b2", "b3"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("with notifications, an include root created after start (and replaced later) is watched", async () => {
  const root = await tempDir();
  const sink = new Sink();
  const r = await started(root, sink);
  await idleHinted(r); // watching with no root yet: only the root's own stat each poll
  await podLog(root, "first", ["created later"]);
  await eventually("the late root is read", () => sink.bodies().includes("created later"));
  await eventually("notifications are in use again", () => r.watching);
  await Deno.remove(`${root}/pods`, { recursive: true });
  await podLog(root, "second", ["after the root was replaced"]);
  await eventually(
    "the replaced root is read",
    () => sink.bodies().includes("after the root was replaced"),
  );
  await r.shutdown();
  assert.deepEqual(sink.bodies(), ["created later", "after the root was replaced"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("files reached through symbolic links (/var/log/containers) are stat'ed on every poll", async () => {
  const root = await tempDir();
  const target = await podLog(root, "linked", ["one"]);
  await Deno.mkdir(`${root}/containers`);
  await Deno.symlink(target, `${root}/containers/linked_ns_app-0123.log`);
  const sink = new Sink();
  const r = await started(root, sink, {}, `${root}/containers/*.log`);
  await eventually("the first line is read", () => sink.bodies().includes("one"));
  // The link's target lives outside the watched directory: it is always looked at.
  await idleHinted(r, 1);
  await append(target, ["two"]);
  await eventually("a write to the link's target is read", () => sink.bodies().includes("two"));
  await r.shutdown();
  assert.deepEqual(sink.bodies(), ["one", "two"]);
  await Deno.remove(root, { recursive: true });
});

/** A `Deno.watchFs` stand-in whose events the test pushes. */
class FakeWatcher implements AsyncIterableIterator<Deno.FsEvent> {
  readonly #queue: Deno.FsEvent[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  push(e: Deno.FsEvent): void {
    this.#queue.push(e);
    this.#wake?.();
  }
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }
  async next(): Promise<IteratorResult<Deno.FsEvent>> {
    while (this.#queue.length === 0 && !this.#closed) {
      await new Promise<void>((res) => this.#wake = res);
    }
    if (this.#queue.length > 0) return { value: this.#queue.shift()!, done: false };
    return { value: undefined, done: true };
  }
  [Symbol.asyncIterator](): AsyncIterableIterator<Deno.FsEvent> {
    return this;
  }
}

function fakeWatchFs(made: FakeWatcher[]): ReceiverOptions["watchFs"] {
  return () => {
    const w = new FakeWatcher();
    made.push(w);
    return w as unknown as Deno.FsWatcher;
  };
}

Deno.test("a change no notification announced is read at the next sweep, and polling takes over", async () => {
  const root = await tempDir();
  const path = await podLog(root, "nfs", ["first"]);
  const sink = new Sink();
  const made: FakeWatcher[] = [];
  // A watcher that never reports anything, as on a network file system.
  const r = await started(root, sink, {
    watchFs: fakeWatchFs(made),
    sweepMs: 150,
    sweepCostRatio: 1,
    missGraceMs: 0,
  });
  await idleHinted(r);
  await append(path, ["unannounced"]);
  await eventually("the sweep reads it", () => sink.bodies().includes("unannounced"));
  await eventually("hints are no longer trusted", () => !r.watching);
  assert.match(r.tracker.watchReason, /missed a change/);
  await append(path, ["polled"]);
  await eventually("plain polling reads the next line", () => sink.bodies().includes("polled"));
  assert.equal(r.tracker.lastPoll.sweep, true);
  await r.shutdown();
  assert.deepEqual(sink.bodies(), ["first", "unannounced", "polled"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("an event queue overflow (rescan) makes the next poll a sweep", async () => {
  const root = await tempDir();
  const path = await podLog(root, "burst", ["first"]);
  const sink = new Sink();
  const made: FakeWatcher[] = [];
  const r = await started(root, sink, { watchFs: fakeWatchFs(made) });
  await idleHinted(r);
  await append(path, ["dropped event"]);
  await new Promise((res) => setTimeout(res, 100));
  assert.deepEqual(sink.bodies(), ["first"], "no event, no sweep: not read yet");
  made[0]!.push({ kind: "any", paths: [], flag: "rescan" });
  await eventually("the rescan sweep reads it", () => sink.bodies().includes("dropped event"));
  assert.equal(r.watching, true, "an overflow alone is not a reason to stop watching");
  await r.shutdown();
  await Deno.remove(root, { recursive: true });
});

Deno.test("when events cost more than polling would (a busy node), polling takes over", async () => {
  const root = await tempDir();
  const path = await podLog(root, "busy", ["first"]);
  const sink = new Sink();
  const made: FakeWatcher[] = [];
  // Sweeps every 100ms whatever they cost (a loaded machine must not stretch them).
  const options = { watchFs: fakeWatchFs(made), sweepMs: 100, sweepCostRatio: 1 };
  const r = await started(root, sink, options);
  await idleHinted(r);
  // 20,000 writes announced within one sweep interval: ~200ms of event handling against a
  // sweep of one file every 20ms.
  for (let i = 0; i < 20_000; i++) made[0]!.push({ kind: "modify", paths: [path] });
  await append(path, ["during the storm"]);
  made[0]!.push({ kind: "modify", paths: [path] });
  await eventually("polling takes over", () => !r.watching);
  assert.match(r.tracker.watchReason, /change faster than polling/);
  await eventually("the line is read", () => sink.bodies().includes("during the storm"));
  await r.shutdown();
  assert.deepEqual(sink.bodies(), ["first", "during the storm"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("the busy check weighs events against the paths polling would look at, every sweepMs", async () => {
  const root = await tempDir();
  // A busy node: 5,000 writes a second across 1,000 files; or 2,000 a second to one file.
  for (const [hinted, writes] of [[1000, 1000], [1, 400]] as const) {
    const made: FakeWatcher[] = [];
    const w = new ChangeWatcher([{ path: root, recursive: true }], nopLogger(), {
      watchFs: fakeWatchFs(made),
      sweepMs: 5000,
      pollIntervalMs: 200,
    });
    assert.equal(w.begin(0, 1000).sweep, true, "the first poll sweeps and opens the watch");
    // A cold first sweep: 80ms for 1,000 paths (it would stretch the next sweep to 32s).
    w.endSweep(0, 80, 1000, undefined, false);
    w.polled(1000);
    assert.equal(w.active, true);
    // 5s of polls (25): each looks at the `hinted` paths the `writes` events named.
    for (let poll = 1; poll < 25; poll++) {
      for (let i = 0; i < writes; i++) {
        made[0]!.push({ kind: "modify", paths: [`${root}/f${i % hinted}`] });
      }
      await new Promise((res) => setTimeout(res, 0));
      assert.equal(w.begin(poll * 200, 1000).sweep, false, "hints are trusted");
      w.polled(hinted);
    }
    w.begin(5000, 1000);
    if (hinted === 1000) {
      // The hints spared no path: polling would have cost less than the events.
      assert.equal(w.active, false);
      assert.match(w.reason, /change faster than polling/);
    } else {
      // 9,600 events spared 23,976 paths of 25,000.
      assert.equal(w.active, true);
    }
    await w.close();
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("sweeps that find nothing missed come further apart, up to 8×; a miss starts over", async () => {
  const root = await tempDir();
  const w = new ChangeWatcher([{ path: root, recursive: true }], nopLogger(), {
    watchFs: fakeWatchFs([]),
    sweepMs: 1000,
    pollIntervalMs: 200,
    missGraceMs: 0,
  });
  // Every 200 ms poll from `from` to `to`: the times that were sweeps, each finding `missed`.
  const sweepsBetween = (from: number, to: number, missed?: string) => {
    const at: number[] = [];
    for (let now = from; now <= to; now += 200) {
      const plan = w.begin(now, 1);
      if (!plan.sweep) continue;
      at.push(now);
      w.endSweep(now, 0.1, 10, missed, plan.checkMisses);
    }
    return at;
  };
  assert.deepEqual(sweepsBetween(0, 40_000), [0, 1000, 3000, 7000, 15000, 23000, 31000, 39000]);
  assert.equal(w.active, true);
  assert.deepEqual(sweepsBetween(40_000, 47_000, `${root}/missed.log`), [47000]);
  assert.equal(w.active, false, "a miss: polling, then notifications again after a backoff");
  assert.match(w.reason, /missed a change/);
  // Polls sweep until the watch opens again (60 s later); trust starts over then.
  const after = sweepsBetween(47_200, 112_000).filter((t) => t >= 107_000);
  assert.deepEqual(after, [107000, 108000, 110000]);
  await w.close();
  await Deno.remove(root, { recursive: true });
});

Deno.test("notifications unavailable, or too many directories for the watch limit: polling reads everything", async () => {
  for (
    const [options, reason] of [
      [{
        watchFs: () => {
          throw new Error("inotify unavailable");
        },
      }, /cannot watch: inotify unavailable/],
      [{ maxWatches: 10 }, /too many directories/],
    ] as const
  ) {
    const root = await tempDir();
    const files: string[] = [];
    for (let i = 0; i < 8; i++) files.push(await podLog(root, `p${i}`, [`start ${i}`]));
    const sink = new Sink();
    const r = await started(root, sink, options);
    await eventually("existing lines read", () => sink.bodies().length === 8);
    await eventually(`fallback: ${reason}`, () => reason.test(r.tracker.watchReason));
    await eventually("a plain poll", () => r.tracker.lastPoll.checked === 8);
    assert.equal(r.watching, false);
    assert.equal(r.tracker.lastPoll.sweep, true);
    await append(files[3]!, ["appended"]);
    await eventually("polling reads the append", () => sink.bodies().includes("appended"));
    await r.shutdown();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("10,000 files under notifications: idle polls stat nothing, appends are read once", async () => {
  const root = await tempDir();
  const n = 10_000;
  for (let d = 0; d < 100; d++) {
    await Deno.mkdir(`${root}/d${d}`);
    for (let f = 0; f < n / 100; f++) {
      await Deno.writeTextFile(`${root}/d${d}/f${f}.log`, `${CRI} line ${d}/${f}\n`);
    }
  }
  const sink = new Sink();
  const r = await started(root, sink, {}, `${root}/*/*.log`);
  await eventually("every line read", () => sink.bodies().length === n, 30_000);
  await idleHinted(r);
  for (const f of ["d1/f2", "d50/f50", "d99/f99"]) await append(`${root}/${f}.log`, [`more ${f}`]);
  await eventually("the appends are read", () => sink.bodies().length === n + 3);
  await r.shutdown();
  assert.deepEqual(sink.bodies().slice(n).sort(), ["more d1/f2", "more d50/f50", "more d99/f99"]);
  assert.equal(new Set(sink.bodies()).size, n + 3);
  await Deno.remove(root, { recursive: true });
});
