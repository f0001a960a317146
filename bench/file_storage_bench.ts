// Run: deno run -A bench/file_storage_bench.ts [directory]
//
// file_storage (SQLite, WAL) against a baseline measured in the same run: writing the same
// bytes to a temporary file and renaming it over the target (fsync of file and directory
// when fsync is on). Prints operations per second for `set`, `get` and `batch` (10 sets),
// and the time to write a filelog checkpoint of 10,000 file entries, with fsync off and on.
// [directory] picks the filesystem to measure (default: a new temporary directory).

import { join } from "node:path";
import { ComponentId } from "../core/component.ts";
import type { StorageClient, StorageOperation } from "../core/storage.ts";
import { nopLogger } from "../core/telemetry/logger.ts";
import { MetricsRegistry } from "../core/telemetry/metrics.ts";
import { FileStorageExtension } from "../extensions/file_storage/extension.ts";
import { defaultFileStorageConfig } from "../extensions/file_storage/config.ts";
import { concatBytes } from "../core/bytes.ts";

const enc = new TextEncoder();
const CHECKPOINT_FILES = 10_000;
const BATCH_SIZE = 10;

function value(i: number, size = 200): Uint8Array {
  const v = new Uint8Array(size);
  for (let j = 0; j < size; j++) v[j] = (i * 31 + j) & 0xff;
  return v;
}

/** One filelog-style checkpoint: the count, then one JSON entry per known file. */
function checkpointOps(round: number): StorageOperation[] {
  const ops: StorageOperation[] = [
    { type: "set", key: "file_input.knownFiles", value: enc.encode(String(CHECKPOINT_FILES)) },
  ];
  for (let i = 0; i < CHECKPOINT_FILES; i++) {
    const entry = {
      Fingerprint: { first_bytes: btoa(`2024-05-01T10:00:00.${i}Z stdout F line ${i}`) },
      Offset: 1000 * i + round,
      FileAttributes: {
        "log.file.path": `/var/log/pods/ns_pod-${i}_0f0e0d0c-${i}/app/0.log`,
        "log.file.name": "0.log",
      },
      HeaderFinalized: false,
      FlushState: { LastDataChange: "2024-05-01T10:00:00Z", LastDataLength: 0 },
    };
    ops.push({
      type: "set",
      key: `file_input.knownFiles${i}`,
      value: enc.encode(JSON.stringify(entry)),
    });
  }
  return ops;
}

/** The baseline: write `bytes` to a temp file, fsync when asked, rename over `path`. */
function writeRename(dir: Deno.FsFile | undefined, path: string, bytes: Uint8Array): void {
  const tmp = path + ".tmp";
  const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    let off = 0;
    while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
    if (dir) f.syncSync();
  } finally {
    f.close();
  }
  Deno.renameSync(tmp, path);
  dir?.syncSync();
}

function concat(ops: StorageOperation[]): Uint8Array {
  return concatBytes(ops.map((o) => (o as { value: Uint8Array }).value));
}

async function timeIt(fn: () => Promise<void> | void): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row {
  what: string;
  storage: string;
  baseline: string;
}

async function measure(root: string, fsync: boolean): Promise<Row[]> {
  const n = fsync ? 1_000 : 20_000;
  const dir = join(root, fsync ? "fsync_on" : "fsync_off");
  const ext = new FileStorageExtension({
    id: new ComponentId("file_storage"),
    kind: "extension",
    logger: nopLogger(),
    metrics: new MetricsRegistry(),
    componentLabels: {},
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  }, { ...defaultFileStorageConfig(), directory: dir, createDirectory: true, fsync });
  await ext.start({ getExtension: () => undefined, reportFatalError: () => {} });
  const client: StorageClient = await ext.getClient("receiver", new ComponentId("filelog"));
  const baseDir = join(dir, "baseline");
  Deno.mkdirSync(baseDir);
  const dirHandle = fsync ? Deno.openSync(baseDir, { read: true }) : undefined;
  const rate = (ops: number, s: number) => `${Math.round(ops / s).toLocaleString("en-US")}/s`;
  const rows: Row[] = [];
  try {
    const values = Array.from({ length: n }, (_, i) => value(i));

    const setS = await timeIt(async () => {
      for (let i = 0; i < n; i++) await client.set(`key${i}`, values[i]!);
    });
    const setB = await timeIt(() => {
      for (let i = 0; i < n; i++) writeRename(dirHandle, join(baseDir, `key${i}`), values[i]!);
    });
    rows.push({ what: "set (200 B)", storage: rate(n, setS), baseline: rate(n, setB) });

    const getS = await timeIt(async () => {
      for (let i = 0; i < n; i++) await client.get(`key${i}`);
    });
    const getB = await timeIt(() => {
      for (let i = 0; i < n; i++) Deno.readFileSync(join(baseDir, `key${i}`));
    });
    rows.push({ what: "get (200 B)", storage: rate(n, getS), baseline: rate(n, getB) });

    const batches = n / BATCH_SIZE;
    const batchOps = Array.from(
      { length: batches },
      (_, b) =>
        Array.from({ length: BATCH_SIZE }, (_, j): StorageOperation => ({
          type: "set",
          key: `batch${j}`,
          value: values[b * BATCH_SIZE + j]!,
        })),
    );
    const batchS = await timeIt(async () => {
      for (const ops of batchOps) await client.batch(ops);
    });
    const batchB = await timeIt(() => {
      for (const ops of batchOps) writeRename(dirHandle, join(baseDir, "batch"), concat(ops));
    });
    rows.push({
      what: `batch (${BATCH_SIZE} sets)`,
      storage: rate(batches, batchS),
      baseline: rate(batches, batchB),
    });

    const cpS: number[] = [];
    const cpOne: number[] = [];
    const cpB: number[] = [];
    let size = 0;
    for (let round = 0; round < 5; round++) {
      const ops = checkpointOps(round);
      const bytes = concat(ops);
      size = bytes.length;
      cpS.push(await timeIt(() => client.batch(ops)));
      cpOne.push(await timeIt(() => client.set("checkpoint", bytes)));
      cpB.push(await timeIt(() => writeRename(dirHandle, join(baseDir, "checkpoint"), bytes)));
    }
    const ms = (xs: number[]) => `${(median(xs) * 1000).toFixed(1)} ms`;
    const files = CHECKPOINT_FILES.toLocaleString("en-US");
    rows.push({
      what: `checkpoint, ${files} files, one key each, one batch (median of 5)`,
      storage: ms(cpS),
      baseline: ms(cpB),
    });
    rows.push({
      what: `checkpoint, ${files} files as one ${(size / 1e6).toFixed(1)} MB value (median of 5)`,
      storage: ms(cpOne),
      baseline: ms(cpB),
    });
  } finally {
    dirHandle?.close();
    await ext.shutdown();
  }
  return rows;
}

const root = Deno.args[0] ?? await Deno.makeTempDir({ prefix: "file_storage_bench_" });
const own = Deno.args[0] === undefined;
try {
  console.log(`file_storage benchmark in ${root} (Deno ${Deno.version.deno})\n`);
  console.log(
    "| fsync | operation | file_storage (SQLite) | baseline (temp file + rename) |\n|---|---|---|---|",
  );
  for (const fsync of [false, true]) {
    const sub = join(root, fsync ? "fsync_on" : "fsync_off");
    try {
      Deno.removeSync(sub, { recursive: true });
    } catch {
      // fresh
    }
    for (const row of await measure(root, fsync)) {
      console.log(`| ${fsync ? "on" : "off"} | ${row.what} | ${row.storage} | ${row.baseline} |`);
    }
  }
} finally {
  if (own) await Deno.remove(root, { recursive: true });
}
