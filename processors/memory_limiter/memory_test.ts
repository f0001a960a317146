import assert from "node:assert/strict";
import { totalMemory } from "./memory.ts";

const V2_MOUNTINFO = [
  "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw",
  "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate",
].join("\n");

const V1_MOUNTINFO = [
  "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
  "34 30 0:31 /kubepods /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");

const V1_CGROUP = "9:name=systemd:/\n4:memory:/kubepods/burstable/pod1:x\n1:cpu:/\n0::/\n";

function files(map: Record<string, string>) {
  const asked: string[] = [];
  const read = (path: string) => {
    asked.push(path);
    return Promise.resolve(map[path]);
  };
  return { read, asked };
}

Deno.test("total memory: cgroup v2 memory.max when set", async () => {
  const { read } = files({
    "/proc/self/mountinfo": V2_MOUNTINFO,
    "/sys/fs/cgroup/memory.max": "536870912\n",
  });
  assert.deepEqual(await totalMemory(read, () => 8e9), {
    bytes: 536870912,
    source: "/sys/fs/cgroup/memory.max",
  });
});

Deno.test("total memory: cgroup v2 'max' means no limit: the machine's memory", async () => {
  const { read } = files({
    "/proc/self/mountinfo": V2_MOUNTINFO,
    "/sys/fs/cgroup/memory.max": "max\n",
  });
  assert.deepEqual(await totalMemory(read, () => 8e9), {
    bytes: 8e9,
    source: "total system memory",
  });
});

Deno.test("total memory: cgroup v1 memory.limit_in_bytes of this process' cgroup, relative to the mount root", async () => {
  const file = "/sys/fs/cgroup/memory/burstable/pod1:x/memory.limit_in_bytes";
  const { read } = files({
    "/proc/self/mountinfo": V1_MOUNTINFO,
    "/proc/self/cgroup": V1_CGROUP,
    [file]: "1073741824\n",
  });
  assert.deepEqual(await totalMemory(read, () => 8e9), { bytes: 1073741824, source: file });
});

Deno.test("total memory: cgroup v1 without a limit (2^63 rounded to pages) or no cgroup at all", async () => {
  const unlimited = files({
    "/proc/self/mountinfo": V1_MOUNTINFO,
    "/proc/self/cgroup": V1_CGROUP,
    "/sys/fs/cgroup/memory/burstable/pod1:x/memory.limit_in_bytes": "9223372036854771712\n",
  });
  assert.equal((await totalMemory(unlimited.read, () => 8e9)).bytes, 8e9);
  const none = files({});
  assert.deepEqual(await totalMemory(none.read, () => 4e9), {
    bytes: 4e9,
    source: "total system memory",
  });
});

Deno.test("total memory: an unreadable limit is an error naming the file", async () => {
  const { read } = files({
    "/proc/self/mountinfo": V2_MOUNTINFO,
    "/sys/fs/cgroup/memory.max": "lots\n",
  });
  await assert.rejects(totalMemory(read, () => 8e9), /\/sys\/fs\/cgroup\/memory.max: "lots"/);
});

Deno.test("the resident set counts buffers while held; a forced GC is available and gives them back", async () => {
  // In a process of its own: the resident set is per process, and tests run side by side.
  const script = `
    import { findForcedGc, residentMemory } from ${
    JSON.stringify(new URL("./memory.ts", import.meta.url).href)
  };
    const gc = findForcedGc();
    if (gc === undefined) throw new Error("no forced GC");
    gc();
    const before = residentMemory();
    let held = Array.from({ length: 128 }, () => new Uint8Array(1 << 20).fill(1));
    const holding = residentMemory();
    held = held.length === 128 ? undefined : held;
    gc();
    console.log(JSON.stringify({ before, holding, after: residentMemory() }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-lock", script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const { before, holding, after } = JSON.parse(new TextDecoder().decode(out.stdout));
  const MIB = 2 ** 20;
  assert.ok(holding - before >= 120 * MIB, `grew by ${(holding - before) / MIB} MiB`);
  assert.ok(after < holding - 100 * MIB, `after the GC: ${(holding - after) / MIB} MiB given back`);
});
