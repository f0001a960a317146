/**
 * The least a Deno program does for the node agent's job, a baseline for
 * `agent_e2e_bench.ts`'s steady and idle modes: every 200 ms (filelog's `poll_interval`) it
 * lists `<root>/*\/*\/*.log`, reads what each file gained with synchronous ops (kept open by
 * inode, so a file renamed away by rotation is read to its end), and POSTs what the poll read as
 * one OTLP log record, compressed in a worker (`gzip`, `zstd`) or not (`none`). No line
 * splitting, no parsing, no per-line encoding, no checkpoints, no batching beyond the poll.
 *
 * Prints `ready` on stdout once running and, on SIGTERM, `read <bytes>` before it exits.
 *
 * Run: deno run --allow-read --allow-net bench/steady_floor.ts <root> <endpoint> <compression>
 *
 * @module
 */

import { putVarint, varintSize } from "../core/pdata/proto_writer.ts";

const [root, endpoint, compression] = Deno.args as [string, string, string];
const POLL_MS = 200;

/**
 * Compresses as the collector's defaults do (gzip level 6, zstd level 1) and hands the body's
 * buffer back with the result, for the next poll.
 */
const WORKER_SOURCE = `
import zlib from "node:zlib";
self.onmessage = (e) => {
  const { kind, body } = e.data;
  const b = kind === "gzip"
    ? zlib.gzipSync(body, { level: 6 })
    : zlib.zstdCompressSync(body, { params: { [zlib.constants.ZSTD_c_compressionLevel]: 1 } });
  const out = new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
  self.postMessage({ out, body }, [out.buffer, body.buffer]);
};`;
const worker = compression === "none"
  ? undefined
  : new Worker(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`, { type: "module" });

/** Room left before the read bytes for the request's tags and lengths (5 of each at most). */
const HEADER_ROOM = 30;
/**
 * What a poll reads goes straight into this buffer after {@linkcode HEADER_ROOM}, and it is
 * reused: a fresh 400 KB buffer per poll costs more in page faults than the reading itself.
 */
let buf = new Uint8Array(HEADER_ROOM + 1024 * 1024);
let used = HEADER_ROOM;
let readBytes = 0;

interface Tail {
  file: Deno.FsFile;
  offset: number;
  listed: boolean;
}
const tails = new Map<number, Tail>();

function readTo(t: Tail, size: number): void {
  if (size <= t.offset) return;
  if (used + size - t.offset > buf.length) {
    const grown = new Uint8Array(2 * (used + size - t.offset));
    grown.set(buf.subarray(0, used));
    buf = grown;
  }
  t.file.seekSync(t.offset, Deno.SeekMode.Start);
  const end = used + size - t.offset;
  while (used < end) {
    const n = t.file.readSync(buf.subarray(used, end));
    if (n === null) break;
    used += n;
    t.offset += n;
    readBytes += n;
  }
}

function logFiles(): string[] {
  const out: string[] = [];
  for (const pod of Deno.readDirSync(root)) {
    for (const container of Deno.readDirSync(`${root}/${pod.name}`)) {
      const dir = `${root}/${pod.name}/${container.name}`;
      for (const f of Deno.readDirSync(dir)) {
        if (f.name.endsWith(".log")) out.push(`${dir}/${f.name}`);
      }
    }
  }
  return out;
}

function poll(): void {
  for (const t of tails.values()) t.listed = false;
  for (const path of logFiles()) {
    const st = Deno.statSync(path);
    let t = tails.get(st.ino!);
    if (t === undefined) {
      t = { file: Deno.openSync(path), offset: 0, listed: true };
      tails.set(st.ino!, t);
    }
    t.listed = true;
    readTo(t, st.size);
  }
  for (const [ino, t] of tails) {
    if (t.listed) continue;
    readTo(t, t.file.statSync().size);
    t.file.close();
    tails.delete(ino);
  }
}

/**
 * Makes what the poll read one ExportLogsServiceRequest (resource_logs → scope_logs → one
 * record whose body is the bytes), writing the tags and lengths just before the bytes.
 */
function request(): Uint8Array<ArrayBuffer> {
  const sizes = [used - HEADER_ROOM]; // string_value, body, log_record, scope_logs, resource_logs
  for (let i = 0; i < 4; i++) sizes.push(1 + varintSize(sizes[i]!) + sizes[i]!);
  let start = HEADER_ROOM;
  for (const [tag, size] of [[0x0a, 0], [0x2a, 1], [0x12, 2], [0x12, 3], [0x0a, 4]]) {
    const length = sizes[size!]!;
    start -= 1 + varintSize(length);
    buf[start] = tag!;
    putVarint(buf, start + 1, length);
  }
  return buf.subarray(start, used);
}

async function compressed(body: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  if (worker === undefined) return body;
  const { out, body: back } = await new Promise<
    { out: Uint8Array<ArrayBuffer>; body: Uint8Array<ArrayBuffer> }
  >(
    (resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage({ kind: compression, body }, [body.buffer]);
    },
  );
  buf = new Uint8Array(back.buffer);
  return out;
}

async function send(): Promise<void> {
  if (used === HEADER_ROOM) return;
  const body = await compressed(request());
  const headers: Record<string, string> = { "content-type": "application/x-protobuf" };
  if (compression !== "none") headers["content-encoding"] = compression;
  const r = await fetch(`${endpoint}/v1/logs`, { method: "POST", body, headers });
  await r.arrayBuffer();
  used = HEADER_ROOM; // fetch has taken the body's bytes by the time it answers
}

Deno.addSignalListener("SIGTERM", () => {
  console.log(`read ${readBytes}`);
  Deno.exit(0);
});
console.log("ready");
for (;;) {
  const t0 = performance.now();
  poll();
  await send();
  await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (performance.now() - t0))));
}
