/**
 * A loopback OTLP/HTTP logs sink run as its own process by `agent_e2e_bench.ts`. It counts
 * log records with a small protobuf scanner (no object decoding, so the sink stays cheap),
 * and with `--track N` also counts, per line id, how often each arrived: every generated
 * message starts with `id=<n> `, n < N.
 *
 * Prints `port <n>` on stdout once listening. `GET /stats` answers
 * `{requests, records, bytes, unique, duplicates}`; `POST /v1/logs` takes the data.
 *
 * Run: deno run --allow-net bench/agent_sink.ts [--track N]
 *
 * @module
 */

import zlib from "node:zlib";

const trackArg = Deno.args.indexOf("--track");
const track = trackArg >= 0 ? Number(Deno.args[trackArg + 1]) : 0;
const seen = new Uint8Array(track);
let requests = 0;
let records = 0;
let bytes = 0;
let unique = 0;
let duplicates = 0;

/** Reads a varint at `pos`; returns [value, next position]. */
function varint(b: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    const x = b[pos++]!;
    v += (x & 0x7f) * mul;
    if (x < 0x80) return [v, pos];
    mul *= 128;
  }
}

/** Calls `fn(start, end)` for every length-delimited field `field` in b[start, end). */
function each(
  b: Uint8Array,
  start: number,
  end: number,
  field: number,
  fn: (s: number, e: number) => void,
): void {
  let pos = start;
  while (pos < end) {
    let tag: number;
    [tag, pos] = varint(b, pos);
    const wire = tag & 7;
    if (wire === 0) [, pos] = varint(b, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len: number;
      [len, pos] = varint(b, pos);
      if (tag >>> 3 === field) fn(pos, pos + len);
      pos += len;
    } else throw new Error(`wire type ${wire}`);
  }
}

const ID = [0x69, 0x64, 0x3d]; // "id="

function countRequest(b: Uint8Array): void {
  each(
    b,
    0,
    b.length,
    1,
    (rs, re) =>
      each(b, rs, re, 2, (ss, se) =>
        each(b, ss, se, 2, (ls, le) => {
          records++;
          if (track === 0) return;
          // body (5) → AnyValue.string_value (1) → "id=<n> …"
          each(b, ls, le, 5, (bs, be) =>
            each(b, bs, be, 1, (s) => {
              if (b[s] !== ID[0] || b[s + 1] !== ID[1] || b[s + 2] !== ID[2]) return;
              let n = 0;
              for (let i = s + 3; b[i]! >= 0x30 && b[i]! <= 0x39; i++) n = n * 10 + b[i]! - 0x30;
              if (n >= track) return;
              if (seen[n]! === 0) unique++;
              else duplicates++;
              if (seen[n]! < 255) seen[n]!++;
            }));
        })),
  );
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`port ${port}`),
}, async (req) => {
  if (req.method === "GET") {
    return Response.json({ requests, records, bytes, unique, duplicates });
  }
  const raw = new Uint8Array(await req.arrayBuffer());
  bytes += raw.length;
  const enc = req.headers.get("content-encoding");
  const body = enc === "gzip"
    ? zlib.gunzipSync(raw)
    : enc === "zstd"
    ? zlib.zstdDecompressSync(raw)
    : raw;
  requests++;
  countRequest(body);
  return new Response(new Uint8Array(0), {
    headers: { "content-type": "application/x-protobuf" },
  });
});
await server.finished;
