import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkWritable,
  describeMode,
  ensureDirectory,
  permissionDeniedMessage,
} from "./directory.ts";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "file_storage_dir_test_" });
}

Deno.test("describeMode() shows octal and ls-style modes", () => {
  assert.equal(describeMode(0o40755), "0755 (drwxr-xr-x)");
  assert.equal(describeMode(0o41777), "1777 (drwxrwxrwt)");
  assert.equal(describeMode(0o100600, false), "0600 (-rw-------)");
  assert.equal(describeMode(0o2750), "2750 (drwxr-s---)");
});

Deno.test("ensureDirectory() without create names the directory and create_directory", async () => {
  const root = await tempDir();
  try {
    const missing = join(root, "missing", "state");
    assert.throws(
      () => ensureDirectory(missing, { create: false, permissions: 0o750, option: "directory" }),
      (e: Error) => {
        assert.match(e.message, new RegExp(`Directory "${missing}" does not exist`));
        assert.match(e.message, /set "create_directory: true"/);
        return true;
      },
    );
    assert.equal(
      (() => {
        try {
          Deno.statSync(missing);
          return true;
        } catch {
          return false;
        }
      })(),
      false,
      "nothing created",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ensureDirectory() creates missing parents with the exact mode, not masked by umask", async () => {
  const root = await tempDir();
  const oldUmask = Deno.umask(0o027);
  try {
    // Control: a plain mkdir with 0777 is masked by the umask.
    const control = join(root, "control");
    Deno.mkdirSync(control, { mode: 0o777 });
    assert.equal(Deno.statSync(control).mode! & 0o777, 0o750);

    const target = join(root, "a", "b", "c");
    const created = ensureDirectory(target, {
      create: true,
      permissions: 0o777,
      option: "directory",
    });
    assert.deepEqual(created, [join(root, "a"), join(root, "a", "b"), target]);
    for (const dir of created) {
      assert.equal((Deno.statSync(dir).mode! & 0o7777).toString(8), "777", dir);
    }

    const other = join(root, "d");
    ensureDirectory(other, { create: true, permissions: 0o770, option: "directory" });
    assert.equal((Deno.statSync(other).mode! & 0o7777).toString(8), "770");
  } finally {
    Deno.umask(oldUmask);
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ensureDirectory() leaves an existing directory's mode alone", async () => {
  const root = await tempDir();
  try {
    Deno.chmodSync(root, 0o711);
    const created = ensureDirectory(root, {
      create: true,
      permissions: 0o750,
      option: "directory",
    });
    assert.deepEqual(created, []);
    assert.equal(Deno.statSync(root).mode! & 0o777, 0o711);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ensureDirectory() rejects a path that is a file", async () => {
  const root = await tempDir();
  try {
    const file = join(root, "file");
    Deno.writeTextFileSync(file, "x");
    assert.throws(
      () => ensureDirectory(file, { create: true, permissions: 0o750, option: "directory" }),
      /exists but is not a directory: set "directory" to a directory/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkWritable() leaves nothing behind in a writable directory", async () => {
  const root = await tempDir();
  try {
    checkWritable(root, "directory");
    assert.deepEqual([...Deno.readDirSync(root)], []);
    assert.throws(
      () => checkWritable(join(root, "nope"), "directory"),
      /Cannot write into directory ".*nope" \("directory"\)/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("permissionDeniedMessage() names the path, the process ids and the mode found", async () => {
  const root = await tempDir();
  try {
    Deno.chmodSync(root, 0o755);
    const msg = permissionDeniedMessage(root, "writing into directory", "directory");
    assert.match(msg, new RegExp(`^Permission denied writing into directory "${root}"`));
    assert.match(msg, new RegExp(`as uid ${Deno.uid()}, gid ${Deno.gid()}`));
    assert.match(msg, /with mode 0755 \(drwxr-xr-x\)/);
    assert.match(msg, /fsGroup/);
    assert.match(msg, /set "directory"/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
