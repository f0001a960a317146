/**
 * Hostile and bad input against the receiver running in its own process: each case must be
 * refused (400) or survived, the process must keep serving, and its memory must stay
 * bounded. The peak RSS of the receiver process is printed at the end (not asserted on time).
 */

import assert from "node:assert/strict";
import zlib from "node:zlib";
import { encodeLogsRequestJson } from "../../core/pdata/otlp_json.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { Prng, sampleLogs } from "../../core/pdata/testing.ts";

const enc = new TextEncoder();
const MiB = 1024 * 1024;

interface Child {
  proc: Deno.ChildProcess;
  url: URL;
  stats: string;
}

async function startChild(): Promise<Child> {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_hostile_child.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the receiver process exited before listening");
    text += value;
  }
  reader.releaseLock();
  proc.stdout.cancel().catch(() => {});
  const first = JSON.parse(text.split("\n")[0]!);
  return { proc, url: new URL(first.url), stats: first.stats };
}

async function stats(c: Child): Promise<{ peakRss: number; rss: number; records: number }> {
  return await (await fetch(c.stats)).json();
}

const validProto = () => encodeLogsRequest(sampleLogs(10));

/** A normal request must still be answered 200; prints the receiver's memory so far. */
async function assertServing(c: Child): Promise<void> {
  const res = await fetch(c.url, {
    method: "POST",
    headers: { "content-type": "application/x-protobuf" },
    body: new Uint8Array(validProto()),
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const s = await stats(c);
  console.log(
    `  receiver RSS ${(s.rss / MiB).toFixed(1)} MiB, peak ${(s.peakRss / MiB).toFixed(1)} MiB`,
  );
}

/**
 * POSTs over a raw connection: writes `head` then the chunks of `body` (stopping when the
 * answer arrives or the server closes), and returns the answer's status (0 if none came).
 */
async function rawPost(
  c: Child,
  headers: Record<string, string>,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<number> {
  const conn = await Deno.connect({ hostname: c.url.hostname, port: Number(c.url.port) });
  const head = `POST ${c.url.pathname} HTTP/1.1\r\nhost: x\r\n` +
    Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
  let answered = false;
  const writing = (async () => {
    try {
      await conn.write(enc.encode(head));
      for await (const chunk of body) {
        if (answered) break;
        for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
      }
    } catch {
      // The server may close the connection once it refused the body.
    }
  })();
  const buf = new Uint8Array(4096);
  let status = 0;
  try {
    const n = await conn.read(buf);
    if (n !== null) {
      status = Number(
        /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n)))?.[1] ?? 0,
      );
    }
  } catch {
    status = 0;
  }
  answered = true;
  try {
    conn.close();
  } catch { /* already closed */ }
  await writing;
  return status;
}

function* repeat(chunk: Uint8Array, times: number): Iterable<Uint8Array> {
  for (let i = 0; i < times; i++) yield chunk;
}

/** `chunks` in HTTP/1.1 chunked transfer encoding. */
function* chunkedBody(chunks: Iterable<Uint8Array>): Iterable<Uint8Array> {
  for (const chunk of chunks) {
    yield enc.encode(chunk.length.toString(16) + "\r\n");
    yield chunk;
    yield enc.encode("\r\n");
  }
  yield enc.encode("0\r\n\r\n");
}

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}

/** Field `field` (length-delimited) around `inner`. */
function lenField(field: number, inner: Uint8Array): Uint8Array {
  const head = [(field << 3) | 2, ...varint(inner.length)];
  const out = new Uint8Array(head.length + inner.length);
  out.set(head);
  out.set(inner, head.length);
  return out;
}

/** A request whose one record body is an AnyValue array nested `depth` deep. */
function deepProto(depth: number): Uint8Array {
  let v: Uint8Array = new Uint8Array(0); // an empty AnyValue
  for (let i = 0; i < depth; i++) v = lenField(5, lenField(1, v)); // AnyValue.array_value.values
  return lenField(1, lenField(2, lenField(2, lenField(5, v)))); // request.resource_logs.scope_logs.log_records.body
}

function deepJson(depth: number): string {
  return '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":' +
    '{"arrayValue":{"values":['.repeat(depth) + "{}" + "]}}".repeat(depth) + "}]}]}]}";
}

const PB = { "content-type": "application/x-protobuf" };
const JSON_H = { "content-type": "application/json" };

Deno.test("otlp hostile input: refused or survived, the process keeps serving, memory bounded", async (t) => {
  const c = await startChild();
  const post = async (headers: Record<string, string>, body: Uint8Array | string) => {
    const res = await fetch(c.url, {
      method: "POST",
      headers,
      body: typeof body === "string" ? body : new Uint8Array(body),
    });
    await res.body?.cancel();
    return res.status;
  };
  try {
    await t.step("malformed and truncated protobuf", async () => {
      const valid = validProto();
      assert.equal(await post(PB, valid.subarray(0, valid.length - 7)), 400);
      assert.equal(await post(PB, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), 400);
      assert.equal(await post(PB, enc.encode("definitely not protobuf")), 400);
      await assertServing(c);
    });

    await t.step("wrong JSON types and text that is not JSON", async () => {
      for (
        const body of [
          '{"resourceLogs":{}}',
          '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":{}}]}]}]}',
          '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"intValue":"x"}}]}]}]}',
          "not json at all",
          '{"resourceLogs":[',
          "",
        ]
      ) assert.equal(await post(JSON_H, body), 400, body);
      await assertServing(c);
    });

    await t.step("AnyValue nested 10,000 deep (protobuf and JSON)", async () => {
      assert.equal(await post(PB, deepProto(10_000)), 400);
      assert.equal(await post(JSON_H, deepJson(10_000)), 400);
      await assertServing(c);
    });

    await t.step("a 100 MiB body", async () => {
      const status = await rawPost(
        c,
        { ...PB, "content-length": String(100 * MiB) },
        repeat(new Uint8Array(MiB), 100),
      );
      assert.ok(status === 400 || status === 0, `status ${status}`);
      // Without a declared length the limit stops the read at 20 MiB.
      const chunked = await rawPost(
        c,
        { ...PB, "transfer-encoding": "chunked" },
        chunkedBody(repeat(new Uint8Array(MiB), 100)),
      );
      assert.ok(chunked === 400 || chunked === 0, `status ${chunked}`);
      await assertServing(c);
    });

    await t.step("a 2 GiB gzip bomb of concatenated members, and truncated gzip", async () => {
      // One member inflates to 64 MiB; 32 of them to 2 GiB, from about 2 MiB on the wire.
      const member = zlib.gzipSync(new Uint8Array(64 * MiB), { level: 9 });
      const status = await rawPost(
        c,
        { ...PB, "content-encoding": "gzip", "transfer-encoding": "chunked" },
        chunkedBody(repeat(member, 32)),
      );
      assert.equal(status, 400);
      const gz = zlib.gzipSync(validProto());
      assert.equal(
        await post({ ...PB, "content-encoding": "gzip" }, gz.subarray(0, gz.length - 10)),
        400,
      );
      await assertServing(c);
    });

    await t.step("a client sending one byte per second while others are served", async () => {
      const conn = await Deno.connect({ hostname: c.url.hostname, port: Number(c.url.port) });
      await conn.write(
        enc.encode(
          `POST ${c.url.pathname} HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: 1000\r\n\r\n`,
        ),
      );
      for (let i = 0; i < 4; i++) {
        await conn.write(new Uint8Array([0x0a]));
        await assertServing(c);
        await new Promise((r) => setTimeout(r, 1000));
      }
      conn.close();
      await assertServing(c);
    });

    await t.step("1,000 concurrent connections", async () => {
      const body = validProto();
      const statuses = await Promise.all(
        Array.from(
          { length: 1000 },
          () =>
            rawPost(c, { ...PB, "content-length": String(body.length), connection: "close" }, [
              body,
            ]),
        ),
      );
      assert.deepEqual(statuses.filter((s) => s !== 200), []);
      await assertServing(c);
    });

    await t.step("fuzz: 3,000 random mutations of valid requests", async () => {
      const rng = new Prng(20261204);
      const seeds = [validProto(), enc.encode(encodeLogsRequestJson(sampleLogs(5)))];
      const seen = new Map<number, number>();
      for (let i = 0; i < 3000; i++) {
        const json = i % 2 === 1;
        const b = new Uint8Array(seeds[i % 2]!);
        const mutations = 1 + rng.u32() % 8;
        for (let m = 0; m < mutations; m++) b[rng.u32() % b.length] = rng.u32() & 0xff;
        const cut = rng.u32() % 4 === 0 ? rng.u32() % b.length : b.length;
        const status = await post(json ? JSON_H : PB, b.subarray(0, cut));
        seen.set(status, (seen.get(status) ?? 0) + 1);
      }
      assert.deepEqual([...seen.keys()].filter((s) => s !== 200 && s !== 400), []);
      await assertServing(c);
      console.log("fuzz answers:", Object.fromEntries(seen));
    });

    const s = await stats(c);
    console.log(
      `receiver process: peak RSS ${(s.peakRss / MiB).toFixed(1)} MiB during the hostile tests ` +
        `(now ${(s.rss / MiB).toFixed(1)} MiB, ${s.records} records accepted)`,
    );
    // 20 MiB limit on the wire and decompressed, a few requests at a time: far below this.
    assert.ok(s.peakRss < 400 * MiB, `peak RSS ${s.peakRss}`);
  } finally {
    c.proc.kill("SIGTERM");
    await c.proc.status;
  }
});
