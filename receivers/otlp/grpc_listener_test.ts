/** The client-GOAWAY filter in front of grpc-js (see grpc_listener.ts for why it exists). */

import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import http2 from "node:http2";
import net from "node:net";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { sampleLogs } from "../../core/pdata/testing.ts";
import { RawClient, startTestServer } from "./_grpc_test_helpers.ts";
import { GoawayFilter } from "./grpc_listener.ts";
import { EXPORT_LOGS_PATH } from "./grpc_server.ts";

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

function frame(type: number, payload: number[]): number[] {
  const n = payload.length;
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, type, 0, 0, 0, 0, 0, ...payload];
}

Deno.test("GoawayFilter: drops GOAWAY frames, passes every other byte, however the stream is cut", () => {
  const settings = frame(0x4, [0, 3, 0, 0, 0, 100]);
  const headers = frame(0x1, Array.from({ length: 40 }, (_, i) => i));
  const goaway = frame(0x7, [0, 0, 0, 9, 0, 0, 0, 0, 1, 2, 3]);
  const data = frame(0x0, Array.from({ length: 300 }, (_, i) => i & 0xff));
  const empty = frame(0x8, []); // a frame with no payload (invalid, but framed)
  const input = new Uint8Array([...PREFACE, ...settings, ...headers, ...goaway, ...data, ...empty]);
  const expected = new Uint8Array([...PREFACE, ...settings, ...headers, ...data, ...empty]);
  for (const step of [1, 2, 5, 9, 10, 24, 25, 64, 1000]) {
    const filter = new GoawayFilter();
    const out: number[] = [];
    for (let i = 0; i < input.length; i += step) {
      for (const part of filter.push(input.subarray(i, i + step))) out.push(...part);
    }
    assert.deepEqual(new Uint8Array(out), expected, `chunks of ${step}`);
  }
});

/**
 * Makes `calls` Export calls on one HTTP/2 connection (node:http2 client, raw gRPC framing),
 * then writes a GOAWAY frame on it as a closing client does, and closes it. (The Deno-hosted
 * grpc-js client sends no GOAWAY when it closes; Node's, like most clients, does.)
 */
async function busyConnectionThenGoaway(port: number, calls: number): Promise<number> {
  const msg = encodeLogsRequest(sampleLogs(1));
  const body = Buffer.alloc(5 + msg.length);
  body.writeUInt32BE(msg.length, 1);
  body.set(msg, 5);
  const socket = net.connect({ host: "127.0.0.1", port });
  await new Promise((resolve) => socket.once("connect", resolve));
  const session = http2.connect(`http://127.0.0.1:${port}`, { createConnection: () => socket });
  session.on("error", () => {});
  let ok = 0;
  for (let i = 0; i < calls; i++) {
    await new Promise<void>((resolve) => {
      const req = session.request({
        ":method": "POST",
        ":path": EXPORT_LOGS_PATH,
        "content-type": "application/grpc",
        te: "trailers",
      });
      req.on("trailers", (t) => {
        if (t["grpc-status"] === "0") ok++;
      });
      req.on("data", () => {});
      req.on("end", resolve);
      req.on("error", () => resolve());
      req.end(body);
    });
  }
  // GOAWAY: length 8, type 7, stream 0; last stream id 0, error NO_ERROR.
  socket.write(new Uint8Array([0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  return ok;
}

Deno.test("otlp grpc: busy connections ending with a client GOAWAY are served, and service goes on", async () => {
  // The runtime crash the filter avoids is reproduced with Node's grpc-js client (see
  // grpc_listener.ts); this Deno-hosted client does not trigger it reliably, so this test
  // checks the filtered path end to end, not the crash.
  const t = await startTestServer();
  try {
    for (let c = 0; c < 6; c++) {
      assert.equal(await busyConnectionThenGoaway(t.server.port, 300), 300);
    }
    const last = new RawClient(t.address);
    assert.equal((await last.export(encodeLogsRequest(sampleLogs(1)))).code, grpc.status.OK);
    last.close();
    assert.equal(t.received.length, 6 * 300 + 1);
  } finally {
    await t.stop();
  }
});
