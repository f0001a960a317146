/**
 * The receiver against the real file_storage extension (SQLite): a restart resumes at the
 * checkpoint it wrote there.
 */
import assert from "node:assert/strict";
import { ComponentId, type Host } from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { fileStorageFactory } from "../../extensions/file_storage/mod.ts";
import { receiver, settings, Sink } from "../../receivers/filelog/test_helpers.ts";

Deno.test("filelog resumes from a checkpoint kept by the real file_storage extension", async () => {
  const root = await Deno.makeTempDir({ prefix: "filelog_fs_" });
  const log = `${root}/app.log`;
  await Deno.writeTextFile(log, "a\nb\n");
  const cfg = {
    include: [log],
    start_at: "beginning",
    poll_interval: "1h",
    storage: "file_storage",
  };
  const run = async (): Promise<string[]> => {
    const issues = new ConfigIssues();
    const extCfg = fileStorageFactory.parseConfig(
      new ConfigReader(
        fromPlain({ directory: `${root}/state`, create_directory: true }),
        "extensions::file_storage",
        issues,
      ),
    );
    assert.deepEqual(issues.errors, []);
    const ext = fileStorageFactory.create({
      ...settings(),
      id: new ComponentId("file_storage"),
      kind: "extension",
    }, extCfg);
    const host: Host = {
      getExtension: (id) => id === "file_storage" ? ext : undefined,
      reportFatalError: (e) => {
        throw e;
      },
    };
    await ext.start(host);
    const sink = new Sink();
    const r = receiver(cfg, sink);
    await r.start(host);
    await r.pollOnce();
    await r.shutdown();
    await ext.shutdown();
    return sink.bodies();
  };
  assert.deepEqual(await run(), ["a", "b"]);
  await Deno.writeTextFile(log, "c\n", { append: true });
  assert.deepEqual(await run(), ["c"]);
  await Deno.remove(root, { recursive: true });
});
