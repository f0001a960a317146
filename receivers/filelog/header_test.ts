import assert from "node:assert/strict";
import { attrs, hostWithStorage, receiver, Sink, tempDir } from "./test_helpers.ts";

const HEADER = {
  pattern: "^#",
  metadata_operators: [{
    type: "regex_parser",
    regex: "^#(?:Version: (?P<w3c_version>.*)|Fields: (?P<w3c_fields>.*)|Software: .*)$",
  }],
};

function cfg(path: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    include: [path],
    start_at: "beginning",
    poll_interval: "1h",
    storage: "file_storage",
    header: HEADER,
    ...extra,
  };
}

Deno.test("header lines become attributes of every record of the file and are not emitted", async () => {
  const dir = await tempDir();
  const path = `${dir}/access.log`;
  await Deno.writeTextFile(
    path,
    "#Software: IIS\r\n#Version: 1.0\n#Fields: date time cs-method\n2024-05-01 12:00:00 GET\n",
  );
  const sink = new Sink();
  const store = new Map<string, Uint8Array>();
  const r = receiver(cfg(path), sink);
  await r.start(hostWithStorage(store));
  await r.pollOnce();
  // A later line that matches the pattern is an ordinary record: the header has ended.
  await Deno.writeTextFile(path, "#not a header any more\n", { append: true });
  await r.pollOnce();
  await r.shutdown();
  const records = sink.records().map((x) => x.record);
  assert.deepEqual(sink.bodies(), ["2024-05-01 12:00:00 GET", "#not a header any more"]);
  for (const rec of records) {
    assert.deepEqual(attrs(rec), {
      "log.file.name": "access.log",
      w3c_version: "1.0",
      w3c_fields: "date time cs-method",
    });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a header still being written waits for its next line; attributes survive a restart", async () => {
  const dir = await tempDir();
  const path = `${dir}/access.log`;
  const store = new Map<string, Uint8Array>();
  await Deno.writeTextFile(path, "#Version: 2.0\n#Fields: a b");
  const first = new Sink();
  let r = receiver(cfg(path, { force_flush_period: "10ms" }), first);
  await r.start(hostWithStorage(store));
  await r.pollOnce();
  await new Promise((res) => setTimeout(res, 30));
  await r.pollOnce(); // an incomplete header line is never force-flushed as a record
  await r.shutdown();
  assert.deepEqual(first.bodies(), []);

  await Deno.writeTextFile(path, " c\nx y z\n", { append: true });
  const second = new Sink();
  r = receiver(cfg(path), second);
  await r.start(hostWithStorage(store));
  await r.pollOnce();
  await r.shutdown();
  assert.deepEqual(second.bodies(), ["x y z"]);
  assert.deepEqual(attrs(second.records()[0]!.record), {
    "log.file.name": "access.log",
    w3c_version: "2.0",
    w3c_fields: "a b c",
  });

  // After another restart the file's header attributes come from the checkpoint.
  await Deno.writeTextFile(path, "after restart\n", { append: true });
  const third = new Sink();
  r = receiver(cfg(path), third);
  await r.start(hostWithStorage(store));
  await r.pollOnce();
  await r.shutdown();
  assert.deepEqual(third.bodies(), ["after restart"]);
  assert.equal(attrs(third.records()[0]!.record).w3c_fields, "a b c");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a file without header lines is read normally under a header config", async () => {
  const dir = await tempDir();
  const path = `${dir}/plain.log`;
  await Deno.writeTextFile(path, "first\nsecond\n");
  const sink = new Sink();
  const r = receiver(cfg(path, { storage: undefined }), sink);
  await r.start(hostWithStorage(new Map()));
  await r.pollOnce();
  await r.shutdown();
  assert.deepEqual(sink.bodies(), ["first", "second"]);
  assert.deepEqual(attrs(sink.records()[0]!.record), { "log.file.name": "plain.log" });
  await Deno.remove(dir, { recursive: true });
});
