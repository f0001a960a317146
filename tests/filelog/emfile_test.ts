import assert from "node:assert/strict";

// A low `ulimit -n` in a child process makes open() fail with EMFILE for part of the files.
Deno.test("too many open files: logged once per poll, the files are read later, start_at end still applies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "filelog_emfile_" });
  const count = 150;
  for (let i = 0; i < count; i++) await Deno.writeTextFile(`${dir}/f${i}.log`, `old ${i}\n`);
  const child = new URL("./emfile_child.ts", import.meta.url).pathname;
  const cmd =
    `ulimit -n 256 && exec "$0" run --allow-read --allow-write --allow-env "$1" "$2" "$3"`;
  const out = await new Deno.Command("bash", {
    args: ["-c", cmd, Deno.execPath(), child, dir, String(count)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  try {
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const res = JSON.parse(new TextDecoder().decode(out.stdout));
    const want = Array.from({ length: count }, (_, i) => `new ${i}`).sort();
    assert.deepEqual([...res.bodies].sort(), want);
    const warned = res.logs.filter((l: { msg: string }) => l.msg.includes("Too many open files"));
    assert.ok(warned.length >= 1 && warned.length <= 4, JSON.stringify(warned.length));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
