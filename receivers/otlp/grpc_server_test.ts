/** The otlp receiver's gRPC side, driven by a raw grpc-js client. */

import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ComponentId } from "../../core/component.ts";
import { PermanentError, ResourceExhaustedError, RetryableError } from "../../core/consumer.ts";
import { decodeLogsResponse, encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { randomLogs, sampleLogs } from "../../core/pdata/testing.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { RECEIVER_METRICS } from "../../core/receiverhelper/mod.ts";
import { BearerTokenAuth } from "../../extensions/bearertokenauth/extension.ts";
import { decodeProtoIndependently } from "../../tests/fakes/otlp_sink.ts";
import { decodeRetryDelayMs, RawClient, startTestServer } from "./_grpc_test_helpers.ts";
import { metadataHeaders, peerAddress } from "./grpc_server.ts";

const LABELS = { receiver: "otlp", transport: "grpc" };

Deno.test("otlp grpc: every record, attribute, resource and scope arrives unchanged", async () => {
  const t = await startTestServer();
  const client = new RawClient(t.address);
  try {
    const sent = [randomLogs(1), randomLogs(2, { maxResources: 8, maxRecords: 40 }), sampleLogs(5)];
    for (const logs of sent) {
      const bytes = encodeLogsRequest(logs);
      const r = await client.export(bytes);
      assert.equal(r.code, grpc.status.OK, r.details);
      assert.equal(decodeLogsResponse(r.response!), undefined, "no partial_success");
      // Checked against the generated code's reading of the same bytes.
      assert.deepEqual(t.received.at(-1)!.logs, decodeProtoIndependently(bytes));
    }
    assert.equal(t.received.length, 3);
    const total = sent.reduce((n, l) => n + countRecords(l), 0);
    assert.equal(t.metrics.value(RECEIVER_METRICS.accepted, LABELS), total);
    const ctx = t.received[0]!.ctx;
    assert.equal(ctx.client?.addr, "127.0.0.1", "the peer address always travels");
    assert.equal(ctx.client?.metadata, undefined, "no metadata without include_metadata");
    assert.equal(ctx.client?.auth, undefined);
  } finally {
    client.close();
    await t.stop();
  }
});

function countRecords(logs: ReturnType<typeof sampleLogs>): number {
  let n = 0;
  for (const rl of logs.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}

Deno.test("otlp grpc: an empty request is answered OK without reaching the pipeline", async () => {
  const t = await startTestServer();
  const client = new RawClient(t.address);
  try {
    const r = await client.export(new Uint8Array(0));
    assert.equal(r.code, grpc.status.OK);
    assert.equal(t.received.length, 0);
  } finally {
    client.close();
    await t.stop();
  }
});

Deno.test("otlp grpc: malformed protobuf is InvalidArgument, and the server keeps serving", async () => {
  const t = await startTestServer();
  const client = new RawClient(t.address);
  try {
    const valid = encodeLogsRequest(sampleLogs(3));
    const bad = [
      valid.subarray(0, valid.length - 7), // truncated
      new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // length past the end
      new Uint8Array([0x0f]), // wire type 7
      new Uint8Array(Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff)),
    ];
    for (const body of bad) {
      const r = await client.export(body);
      assert.equal(r.code, grpc.status.INVALID_ARGUMENT, r.details);
      assert.match(r.details, /^Invalid request: /);
    }
    assert.equal(t.received.length, 0);
    assert.equal((await client.export(valid)).code, grpc.status.OK);
    assert.equal(t.received.length, 1);
  } finally {
    client.close();
    await t.stop();
  }
});

Deno.test("otlp grpc: a message over max_recv_msg_size_mib is ResourceExhausted, then service goes on", async () => {
  const t = await startTestServer({ max_recv_msg_size_mib: 1 });
  const client = new RawClient(t.address);
  try {
    const big = encodeLogsRequest(sampleLogs(1));
    const over = new Uint8Array(1024 * 1024 + 1);
    over.set(big); // a valid start, then zero padding past the limit
    const r = await client.export(over);
    assert.equal(r.code, grpc.status.RESOURCE_EXHAUSTED, r.details);
    assert.equal(t.received.length, 0);
    assert.equal((await client.export(big)).code, grpc.status.OK, "same connection still usable");
    const fresh = new RawClient(t.address);
    assert.equal((await fresh.export(big)).code, grpc.status.OK);
    fresh.close();
  } finally {
    client.close();
    await t.stop();
  }
});

Deno.test("otlp grpc: grpc's 4 MiB limit applies when max_recv_msg_size_mib is unset", async () => {
  const t = await startTestServer();
  const client = new RawClient(t.address);
  try {
    const at = new Uint8Array(4 * 1024 * 1024);
    at.set(encodeLogsRequest(sampleLogs(1)));
    // Zero padding is field 0, which protobuf forbids: InvalidArgument, not a size refusal.
    assert.equal((await client.export(at)).code, grpc.status.INVALID_ARGUMENT);
    const over = new Uint8Array(4 * 1024 * 1024 + 1);
    assert.equal((await client.export(over)).code, grpc.status.RESOURCE_EXHAUSTED);
  } finally {
    client.close();
    await t.stop();
  }
});

Deno.test("otlp grpc: pipeline refusals map to upstream's codes, with RetryInfo when a delay is known", async () => {
  const t = await startTestServer();
  const client = new RawClient(t.address);
  const body = encodeLogsRequest(sampleLogs(2));
  try {
    const cases = [
      [new Error("queue is full"), grpc.status.UNAVAILABLE, undefined],
      [
        new RetryableError("data refused due to high memory usage", { retryAfterMs: 1500 }),
        grpc.status.UNAVAILABLE,
        1500,
      ],
      [
        new ResourceExhaustedError("too many requests", { retryAfterMs: 2000 }),
        grpc.status.RESOURCE_EXHAUSTED,
        2000,
      ],
      [new PermanentError("bad data"), grpc.status.INTERNAL, undefined],
    ] as const;
    for (const [err, code, delay] of cases) {
      t.consume = () => Promise.reject(err);
      const r = await client.export(body);
      assert.equal(r.code, code, err.message);
      assert.equal(r.details, err.message);
      const details = r.trailers?.get("grpc-status-details-bin")[0];
      if (delay === undefined) assert.equal(details, undefined);
      else assert.equal(decodeRetryDelayMs(details as Uint8Array), delay);
    }
    assert.equal(t.metrics.value(RECEIVER_METRICS.refused, LABELS), 8);
    assert.equal(t.metrics.value(RECEIVER_METRICS.accepted, LABELS), 0);
  } finally {
    client.close();
    await t.stop();
  }
});

Deno.test("otlp grpc: include_metadata puts the metadata (and :authority as host) in ClientInfo", async () => {
  const t = await startTestServer({ include_metadata: true });
  const client = new RawClient(t.address);
  try {
    const r = await client.export(encodeLogsRequest(sampleLogs(1)), { "X-Tenant": "acme" });
    assert.equal(r.code, grpc.status.OK);
    const md = t.received[0]!.ctx.client!.metadata!;
    assert.deepEqual(md.get("x-tenant"), ["acme"]);
    assert.deepEqual(md.get("host"), [t.address]);
    assert.match(md.get("user-agent")![0]!, /grpc-node-js/);
    assert.equal(t.received[0]!.ctx.client!.addr, "127.0.0.1");
  } finally {
    client.close();
    await t.stop();
  }
});

Deno.test("otlp grpc: auth::authenticator refuses a missing or wrong token with Unauthenticated", async () => {
  const auth = new BearerTokenAuth(
    {
      id: new ComponentId("bearertokenauth"),
      kind: "extension",
      logger: nopLogger(),
      metrics: new MetricsRegistry(),
      componentLabels: {},
      buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
    },
    { header: "Authorization", scheme: "Bearer", tokens: ["s3cr3t", "other"], filename: "" },
  );
  await auth.start();
  const t = await startTestServer({ auth: { authenticator: "bearertokenauth" } }, {
    bearertokenauth: auth,
  });
  const client = new RawClient(t.address);
  const body = encodeLogsRequest(sampleLogs(1));
  try {
    const missing = await client.export(body);
    assert.equal(missing.code, grpc.status.UNAUTHENTICATED);
    assert.match(missing.details, /Missing or empty Authorization header/);
    const wrong = await client.export(body, { authorization: "Bearer nope" });
    assert.equal(wrong.code, grpc.status.UNAUTHENTICATED);
    assert.match(wrong.details, /does not match/);
    assert.equal(t.received.length, 0, "nothing reached the pipeline");
    // A bad body from an unauthenticated client is refused for the credentials first.
    const badBody = await client.export(new Uint8Array([0xff]));
    assert.equal(badBody.code, grpc.status.UNAUTHENTICATED);
    for (const token of ["s3cr3t", "other"]) {
      const ok = await client.export(body, { authorization: `Bearer ${token}` });
      assert.equal(ok.code, grpc.status.OK);
    }
    assert.equal(t.received.length, 2);
    assert.deepEqual(t.received[0]!.ctx.client!.auth, {});
    assert.equal(t.received[0]!.ctx.client!.metadata, undefined, "auth alone adds no metadata");
  } finally {
    client.close();
    await t.stop();
  }
});

Deno.test("otlp grpc: a missing authenticator or a taken port fails start, naming the setting", async () => {
  await assert.rejects(
    startTestServer({ auth: { authenticator: "bearertokenauth" } }),
    /Authenticator "bearertokenauth" is not running/,
  );
  const t = await startTestServer();
  try {
    await assert.rejects(
      startTestServer({ endpoint: t.address }),
      /Cannot listen on "127\.0\.0\.1:\d+" \(receivers::otlp::protocols::grpc::endpoint\)/,
    );
  } finally {
    await t.stop();
  }
});

Deno.test("otlp grpc: shutdown tells calls waiting on the pipeline to give up", async () => {
  const t = await startTestServer();
  const client = new RawClient(t.address);
  try {
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => entered = resolve);
    t.consume = (_logs, ctx) =>
      new Promise((_, reject) => {
        entered();
        ctx.signal!.addEventListener("abort", () => reject(new RetryableError("shutting down")));
      });
    const pending = client.export(encodeLogsRequest(sampleLogs(1)));
    await inside;
    const stopping = t.stop();
    const r = await pending;
    await stopping;
    assert.equal(r.code, grpc.status.UNAVAILABLE, "the client retries elsewhere");
    assert.equal(r.details, "shutting down");
  } finally {
    client.close();
    await t.stop();
  }
});

Deno.test("peerAddress and metadataHeaders", () => {
  assert.equal(peerAddress("127.0.0.1:4317"), "127.0.0.1");
  assert.equal(peerAddress("::1:50000"), "::1");
  assert.equal(peerAddress("[::1]:50000"), "::1");
  assert.equal(peerAddress("::ffff:10.0.0.7:50000"), "10.0.0.7");
  assert.equal(peerAddress("unknown"), undefined);
  const md = new grpc.Metadata();
  md.add("a", "1");
  md.add("a", "2");
  md.set("b-bin", Buffer.from([1, 2, 3]));
  assert.deepEqual([...metadataHeaders(md)], [["a", ["1", "2"]], ["b-bin", ["AQID"]]]);
});

Deno.test("otlp grpc: gzip-compressed messages are inflated, and the limit applies to the inflated size", async () => {
  const t = await startTestServer({ max_recv_msg_size_mib: 1 });
  // 2 = gzip in grpc-js's CompressionAlgorithms (what the Go collector's otlp exporter sends).
  const client = new RawClient(t.address, undefined, { "grpc.default_compression_algorithm": 2 });
  try {
    const logs = sampleLogs(500);
    const r = await client.export(encodeLogsRequest(logs));
    assert.equal(r.code, grpc.status.OK, r.details);
    assert.deepEqual(t.received[0]!.logs, logs);
    // 8 MiB of zeros compress to a few KiB on the wire but inflate past the 1 MiB limit.
    const bomb = await client.export(new Uint8Array(8 * 1024 * 1024));
    assert.equal(bomb.code, grpc.status.RESOURCE_EXHAUSTED, bomb.details);
    assert.match(bomb.details, /decompresses to a size larger than 1048576/);
    assert.equal((await client.export(encodeLogsRequest(logs))).code, grpc.status.OK);
  } finally {
    client.close();
    await t.stop();
  }
});

Deno.test("otlp grpc: AnyValue nested 10,000 deep is InvalidArgument, not a crash", async () => {
  const t = await startTestServer();
  const client = new RawClient(t.address);
  try {
    // LogRecord.body = AnyValue{array_value{values: [AnyValue{array_value{…}}]}} 10,000 deep,
    // built inside out: AnyValue.array_value is field 5, ArrayValue.values field 1.
    let inner: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < 10_000; i++) {
      const array = wrap(1, inner);
      inner = wrap(5, array);
    }
    const record = wrap(5, inner); // LogRecord.body
    const scopeLogs = wrap(2, record); // ScopeLogs.log_records
    const resourceLogs = wrap(2, scopeLogs); // ResourceLogs.scope_logs
    const request = wrap(1, resourceLogs); // ExportLogsServiceRequest.resource_logs
    const r = await client.export(request);
    assert.equal(r.code, grpc.status.INVALID_ARGUMENT, r.details);
    assert.match(r.details, /nest/i);
    assert.equal((await client.export(encodeLogsRequest(sampleLogs(1)))).code, grpc.status.OK);
  } finally {
    client.close();
    await t.stop();
  }
});

/** A length-delimited protobuf field. */
function wrap(field: number, body: Uint8Array): Uint8Array {
  const len: number[] = [];
  for (let n = body.length;; n >>>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  const out = new Uint8Array(1 + len.length + body.length);
  out[0] = (field << 3) | 2;
  out.set(len, 1);
  out.set(body, 1 + len.length);
  return out;
}

Deno.test("otlp grpc: random mutations of valid requests are answered OK or InvalidArgument", async () => {
  const t = await startTestServer();
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  try {
    // Several short-lived connections (see the module doc of grpc_server.ts on long ones).
    for (let c = 0; c < 4; c++) {
      const client = new RawClient(t.address);
      for (let i = 0; i < 50; i++) {
        const bytes = encodeLogsRequest(randomLogs(c * 100 + i)).slice();
        for (let m = 0, n = 1 + rand(8); m < n && bytes.length > 0; m++) {
          const at = rand(bytes.length);
          const kind = rand(3);
          if (kind === 0) bytes[at] = rand(256);
          else if (kind === 1) bytes[at] ^= 1 << rand(8);
          else bytes.fill(0xff, at, Math.min(bytes.length, at + 1 + rand(4)));
        }
        const r = await client.export(bytes);
        assert.ok(
          r.code === grpc.status.OK || r.code === grpc.status.INVALID_ARGUMENT,
          `${r.code} ${r.details}`,
        );
      }
      client.close();
    }
    const client = new RawClient(t.address);
    assert.equal((await client.export(encodeLogsRequest(sampleLogs(1)))).code, grpc.status.OK);
    client.close();
  } finally {
    await t.stop();
  }
});

Deno.test("otlp grpc: while a memory_limiter of its pipelines refuses, a call gets Unavailable with RetryInfo before it is decoded", async () => {
  let refusing = true;
  const t = await startTestServer(
    {},
    {},
    () =>
      refusing
        ? { message: "data refused due to high memory usage", retryAfterMs: 2000 }
        : undefined,
  );
  const client = new RawClient(t.address);
  try {
    const garbage = new Uint8Array([0xff, 0xff, 0xff]); // would be InvalidArgument if decoded
    const r = await client.export(garbage);
    assert.equal(r.code, grpc.status.UNAVAILABLE);
    assert.equal(r.details, "data refused due to high memory usage");
    const details = r.trailers?.get("grpc-status-details-bin")[0] as Uint8Array;
    assert.equal(decodeRetryDelayMs(details), 2000);
    assert.equal(t.received.length, 0);
    refusing = false;
    assert.equal((await client.export(encodeLogsRequest(sampleLogs(2)))).code, grpc.status.OK);
    assert.equal(t.received.length, 1);
  } finally {
    client.close();
    await t.stop();
  }
});
