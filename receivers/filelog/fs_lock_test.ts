import assert from "node:assert/strict";
import { plainHost, receiver, Sink, tempDir } from "./test_helpers.ts";

Deno.test("acquire_fs_lock: a file a writer holds locked is skipped, then read once the lock is gone", async () => {
  const dir = await tempDir();
  const path = `${dir}/app.log`;
  await Deno.writeTextFile(path, "one\ntwo\n");
  // An exclusive flock on another open file description, as a writer process would hold.
  const writer = Deno.openSync(path, { read: true, write: true });
  writer.lockSync(true);
  const sink = new Sink();
  const r = receiver(
    { include: [path], start_at: "beginning", poll_interval: "1h", acquire_fs_lock: true },
    sink,
  );
  await r.start(plainHost);
  await r.pollOnce();
  assert.deepEqual(sink.bodies(), [], "nothing is read while the file is locked");
  writer.unlockSync();
  // The file did not change since the skipped read: it must still be read now.
  await r.pollOnce();
  assert.deepEqual(sink.bodies(), ["one", "two"]);
  // The receiver's shared lock lasts only for the read.
  assert.equal(writer.tryLockSync(true), true);
  writer.unlockSync();
  await r.shutdown();
  writer.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("without acquire_fs_lock a locked file is read as usual", async () => {
  const dir = await tempDir();
  const path = `${dir}/app.log`;
  await Deno.writeTextFile(path, "one\n");
  const writer = Deno.openSync(path, { read: true, write: true });
  writer.lockSync(true);
  const sink = new Sink();
  const r = receiver({ include: [path], start_at: "beginning", poll_interval: "1h" }, sink);
  await r.start(plainHost);
  await r.pollOnce();
  await r.shutdown();
  assert.deepEqual(sink.bodies(), ["one"]);
  writer.close();
  await Deno.remove(dir, { recursive: true });
});
