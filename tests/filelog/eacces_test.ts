import assert from "node:assert/strict";

// Tests run as root here, so EACCES is produced with Deno's sandbox (--deny-read), which
// makes the same open() fail for one file while the rest stay readable.
Deno.test("an unreadable file is reported once with its path and the others keep being read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "filelog_eacces_" });
  await Deno.writeTextFile(`${dir}/ok.log`, "visible\n");
  await Deno.writeTextFile(`${dir}/secret.log`, "hidden\n");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-read`,
      `--deny-read=${dir}/secret.log`,
      "--allow-env",
      new URL("./eacces_child.ts", import.meta.url).pathname,
      dir,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const res = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.deepEqual(res.bodies, ["visible"]);
  const denied = res.logs.filter((l: { msg: string }) => l.msg.includes("permission denied"));
  assert.equal(denied.length, 1, JSON.stringify(res.logs));
  assert.equal(denied[0].path, `${dir}/secret.log`);
  assert.equal(res.unreadable, 1);
  await Deno.remove(dir, { recursive: true });
});
