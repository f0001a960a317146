/**
 * What the memory limiter measures and how it acts: the figure it watches (the resident set,
 * what a container's memory limit counts; see the README for why not V8's heap), the
 * total its percentages refer to (the cgroup v2 `memory.max` or v1 `memory.limit_in_bytes`
 * when set, otherwise the machine's memory, as upstream), and a forced full collection.
 *
 * @module
 */

import v8 from "node:v8";
import vm from "node:vm";

/**
 * Bytes in use: the process' resident set. It covers what V8's heap figures miss: native
 * buffers (request and response bodies inside the HTTP stack, zlib, TLS) and the heap's
 * committed but unused pages; under load these were 140 MiB beyond `heapUsed + external`.
 */
export function residentMemory(): number {
  return Deno.memoryUsage().rss;
}

/**
 * A function that forces a full, blocking V8 collection: `globalThis.gc` when the runtime
 * was started with `--v8-flags=--expose-gc`, otherwise the `gc` of a fresh context after
 * turning that flag on through `node:v8` (works in Deno 2.9 without any flag). Undefined
 * when neither works; the limiter then only refuses data.
 */
export function findForcedGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") return () => exposed();
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc: unknown = vm.runInNewContext("gc");
    if (typeof gc === "function") return () => gc();
  } catch {
    // No way to force a collection in this runtime.
  }
  return undefined;
}

/** Reads a text file; undefined when it does not exist. */
export type ReadText = (path: string) => Promise<string | undefined>;

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** cgroup v1 writes this (or a value close to 2^63) when no limit is set. */
const UNLIMITED = 2 ** 62;

interface Mount {
  readonly root: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptions: readonly string[];
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(parseInt(oct, 8)));
}

function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    if (left.length < 5 || right.length < 3) continue;
    mounts.push({
      root: unescapeMount(left[3]!),
      mountPoint: unescapeMount(left[4]!),
      fsType: right[0]!,
      superOptions: right[2]!.split(","),
    });
  }
  return mounts;
}

function parseLimit(text: string | undefined, file: string): number | undefined {
  const value = text?.trim();
  if (value === undefined || value === "" || value === "max") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`Cannot read the memory limit in ${file}: "${value}"`);
  return n > 0 && n < UNLIMITED ? n : undefined;
}

/** The v1 memory controller's directory for this process, from mountinfo and /proc/self/cgroup. */
function v1MemoryDir(mounts: readonly Mount[], procCgroup: string): string | undefined {
  let cgroupPath: string | undefined;
  for (const line of procCgroup.split("\n")) {
    // "hierarchy-id:controllers:path"; the path may itself contain ":".
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    if (line.slice(first + 1, second).split(",").includes("memory")) {
      cgroupPath = line.slice(second + 1);
    }
  }
  if (cgroupPath === undefined) return undefined;
  for (const m of mounts) {
    if (m.fsType !== "cgroup" || !m.superOptions.includes("memory")) continue;
    const root = m.root.endsWith("/") ? m.root : m.root + "/";
    if (cgroupPath !== m.root && !cgroupPath.startsWith(root)) continue;
    const rel = cgroupPath.slice(m.root.length).replace(/^\/+/, "");
    return rel === "" ? m.mountPoint : `${m.mountPoint}/${rel}`;
  }
  return undefined;
}

/** The total that percentages refer to, and where it came from (for the log). */
export interface TotalMemory {
  readonly bytes: number;
  readonly source: string;
}

/**
 * The container's memory limit (cgroup v2 `memory.max` when cgroup2 is mounted at
 * /sys/fs/cgroup, else the v1 memory controller's `memory.limit_in_bytes`) when one is set,
 * otherwise the machine's total memory.
 */
export async function totalMemory(
  read: ReadText = readIfExists,
  systemTotal: () => number = () => Deno.systemMemoryInfo().total,
): Promise<TotalMemory> {
  const mounts = parseMountInfo(await read("/proc/self/mountinfo") ?? "");
  let file: string | undefined;
  if (mounts.some((m) => m.fsType === "cgroup2" && m.mountPoint === "/sys/fs/cgroup")) {
    file = "/sys/fs/cgroup/memory.max";
  } else {
    const dir = v1MemoryDir(mounts, await read("/proc/self/cgroup") ?? "");
    if (dir !== undefined) file = `${dir}/memory.limit_in_bytes`;
  }
  const limit = file === undefined ? undefined : parseLimit(await read(file), file);
  if (limit !== undefined) return { bytes: limit, source: file! };
  return { bytes: systemTotal(), source: "total system memory" };
}
