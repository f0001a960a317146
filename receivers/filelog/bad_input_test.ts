import assert from "node:assert/strict";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { attrs, plainHost, polls, receiver, Sink, tempDir } from "./test_helpers.ts";

const LABELS = { receiver: "filelog" };

async function readAll(
  content: Uint8Array | string,
  cfg: Record<string, unknown> = {},
  metrics?: MetricsRegistry,
): Promise<Sink> {
  const dir = await tempDir();
  const path = `${dir}/in.log`;
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  const sink = new Sink();
  const r = receiver(
    { include: [path], start_at: "beginning", poll_interval: "1h", ...cfg },
    sink,
    metrics,
  );
  await r.start(plainHost);
  await polls(r);
  await new Promise((res) => setTimeout(res, 5)); // let a force_flush_period of 1ms expire
  await polls(r, 2);
  await r.shutdown();
  await Deno.remove(dir, { recursive: true });
  return sink;
}

Deno.test("invalid UTF-8 is replaced with U+FFFD and counted; a real U+FFFD is not counted", async () => {
  const m = new MetricsRegistry();
  const bytes = new Uint8Array([0x61, 0xff, 0x62, 0x0a, 0xef, 0xbf, 0xbd, 0x0a, 0x63, 0xc3, 0x0a]);
  const sink = await readAll(bytes, {}, m);
  assert.deepEqual(sink.bodies(), ["a\uFFFDb", "\uFFFD", "c\uFFFD"]);
  assert.equal(m.value("otelcol_filelog_invalid_encoding_records", LABELS), 2);
});

Deno.test("CRI lines through the container operator: invalid UTF-8 replaced and counted, characters across read chunks kept", async () => {
  const dir = await tempDir();
  const podDir = `${dir}/shop_cart-7d9f_0f6c7a2e-1b2c-4d5e-8f90-123456789abc/cart`;
  await Deno.mkdir(podDir, { recursive: true });
  const enc = new TextEncoder();
  const head = (i: number) => `2026-12-04T09:00:00.${String(i).padStart(9, "0")}Z stdout F `;
  // Lines of two-byte characters, some of them odd in length, so that read chunks (256 KiB)
  // end inside a character; one line with an invalid byte.
  const expected: string[] = [];
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 1; i <= 900; i++) {
    const text = `${i} ` + "é".repeat(300 + (i % 7));
    expected.push(text);
    parts.push(enc.encode(`${head(i)}${text}\n`));
    if (i === 450) {
      parts.push(enc.encode(head(451)), new Uint8Array([0x62, 0xff, 0x63, 0x0a]));
      expected.push("b\uFFFDc");
    }
  }
  await Deno.writeFile(`${podDir}/0.log`, new Uint8Array(await new Blob(parts).arrayBuffer()));
  const m = new MetricsRegistry();
  const sink = new Sink();
  const r = receiver(
    {
      include: [`${dir}/*/*/*.log`],
      start_at: "beginning",
      poll_interval: "1h",
      include_file_path: true,
      operators: [{ type: "container" }],
    },
    sink,
    m,
  );
  await r.start(plainHost);
  await polls(r, 4);
  await r.shutdown();
  await Deno.remove(dir, { recursive: true });
  assert.deepEqual(sink.bodies(), expected);
  assert.equal(m.value("otelcol_filelog_invalid_encoding_records", LABELS), 1);
  assert.deepEqual(attrs(sink.records()[0]!.record), {
    "log.file.name": "0.log",
    "log.file.path": `${podDir}/0.log`,
    "log.iostream": "stdout",
    "logtag": "F",
  });
});

Deno.test("a 10 MiB line is split at max_log_size (1 MiB) into records, counted, nothing lost", async () => {
  const m = new MetricsRegistry();
  const line = "x".repeat(10 * 1024 * 1024);
  const sink = await readAll(`${line}\nafter\n`, {}, m);
  const bodies = sink.bodies();
  assert.equal(bodies.length, 11);
  assert.ok(bodies.slice(0, 10).every((b) => b.length === 1024 * 1024));
  assert.equal(bodies[10], "after");
  // Nine cuts; the tenth piece ends at the newline.
  assert.equal(m.value("otelcol_filelog_split_records", LABELS), 9);
});

Deno.test("max_log_size_behavior truncate keeps the head of a long line and drops the rest", async () => {
  const sink = await readAll(`${"y".repeat(5000)}\nnext\n`, {
    max_log_size: 1000,
    max_log_size_behavior: "truncate",
  });
  assert.deepEqual(sink.bodies().map((b) => b.length), [1000, 4]);
});

Deno.test("a cut never splits a UTF-8 character", async () => {
  const sink = await readAll(`${"é".repeat(10)}\n`, { max_log_size: 5 });
  assert.ok(sink.bodies().every((b) => !b.includes("\uFFFD")), JSON.stringify(sink.bodies()));
  assert.equal(sink.bodies().join(""), "é".repeat(10));
});

Deno.test("a binary file is read without crashing and without losing bytes under nop encoding", async () => {
  const bin = new Uint8Array(4096);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 31 + 7) & 0xff;
  const utf8 = await readAll(bin, { force_flush_period: "1ms" });
  assert.ok(utf8.bodies().length > 0);
  const nop = await readAll(bin, { encoding: "nop", force_flush_period: "1ms" });
  const got = nop.records().map((r) => r.record.body);
  assert.ok(got.every((b) => b?.kind === "bytes"));
  const total = got.reduce((n, b) => n + (b?.kind === "bytes" ? b.value.length : 0), 0);
  assert.equal(total, bin.length);
});

Deno.test("empty and whitespace-only lines produce no records; CRLF is stripped; whitespace can be kept", async () => {
  const sink = await readAll("\n\n  \r\na\r\n\tb \n\n");
  assert.deepEqual(sink.bodies(), ["a", "b"]);
  const kept = await readAll("  a  \r\n", {
    preserve_leading_whitespaces: true,
    preserve_trailing_whitespaces: true,
  });
  assert.deepEqual(kept.bodies(), ["  a  "]);
});

Deno.test("utf-16le files are split on encoded newlines and decoded", async () => {
  const text = "héllo\r\nwörld\n";
  const bytes = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    bytes[2 * i] = text.charCodeAt(i) & 0xff;
    bytes[2 * i + 1] = text.charCodeAt(i) >> 8;
  }
  const sink = await readAll(bytes, { encoding: "utf-16le" });
  assert.deepEqual(sink.bodies(), ["héllo", "wörld"]);
});

Deno.test("utf-8-raw keeps invalid lines as bytes", async () => {
  const sink = await readAll(new Uint8Array([0x61, 0x0a, 0xff, 0xfe, 0x0a]), {
    encoding: "utf-8-raw",
  });
  const bodies = sink.records().map((r) => r.record.body);
  assert.deepEqual(bodies[0], { kind: "string", value: "a" });
  assert.deepEqual(bodies[1], { kind: "bytes", value: new Uint8Array([0xff, 0xfe]) });
});

Deno.test("multiline line_start_pattern groups stack traces; the last record is flushed by time", async () => {
  const sink = await readAll("2024 start\n  at a\n  at b\n2024 next\n  at c\n", {
    multiline: { line_start_pattern: "^2024" },
    force_flush_period: "1ms",
  });
  assert.deepEqual(sink.bodies(), ["2024 start\n  at a\n  at b", "2024 next\n  at c"]);
});

Deno.test("file attributes, record number/offset, and static attributes/resource", async () => {
  const sink = await readAll("a\nb\n", {
    include_file_path: true,
    include_file_record_number: true,
    include_file_record_offset: true,
    include_file_permissions: true,
    attributes: { team: "core" },
    resource: { "host.name": "node-1" },
  });
  const recs = sink.records();
  const a = attrs(recs[1]!.record);
  assert.equal(a["log.file.name"], "in.log");
  assert.match(String(a["log.file.path"]), /\/in\.log$/);
  assert.equal(a["log.file.record_number"], 2n);
  assert.equal(a["log.file.record_offset"], 2n);
  assert.match(String(a["log.file.permissions"]), /^[0-7]{3}$/);
  assert.equal(a.team, "core");
  assert.deepEqual(recs[0]!.resource, { "host.name": "node-1" });
});
