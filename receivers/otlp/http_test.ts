import assert from "node:assert/strict";
import zlib from "node:zlib";
import type { ServerAuthenticator } from "../../core/auth.ts";
import { PermanentError, ResourceExhaustedError, RetryableError } from "../../core/consumer.ts";
import { encodeLogsRequestJson } from "../../core/pdata/otlp_json.ts";
import { decodeLogsResponse, encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { randomLogs, sampleLogs } from "../../core/pdata/testing.ts";
import { newLogs } from "../../core/pdata/logs.ts";
import { startReceiver } from "./_test_helpers.ts";
import { encodeStatusProto } from "./http.ts";

const PB = { "content-type": "application/x-protobuf" };
const JSON_H = { "content-type": "application/json" };

/** Decodes a google.rpc.Status { code = 1; message = 2 }. */
function decodeStatus(b: Uint8Array): { code: number; message: string } {
  assert.equal(b[0], 0x08);
  const code = b[1]!;
  if (b.length === 2) return { code, message: "" };
  assert.equal(b[2], 0x12);
  let len = 0, shift = 0, i = 3;
  for (;; i++) {
    len |= (b[i]! & 0x7f) << shift;
    shift += 7;
    if (b[i]! < 0x80) break;
  }
  return { code, message: new TextDecoder().decode(b.subarray(i + 1, i + 1 + len)) };
}

const bytes = async (res: Response) => new Uint8Array(await res.arrayBuffer());
const body = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

Deno.test("otlp http: protobuf and JSON arrive unchanged; 200 in the request's encoding", async () => {
  const t = await startReceiver();
  try {
    const logs = randomLogs(5, { maxResources: 3 });
    let res = await fetch(t.url, {
      method: "POST",
      headers: PB,
      body: body(encodeLogsRequest(logs)),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-protobuf");
    assert.equal(decodeLogsResponse(await bytes(res)), undefined);
    assert.deepEqual(t.received[0]!.logs, logs);
    assert.equal(t.received[0]!.encoded, true, "a pipeline that changes nothing gets the bytes");
    assert.equal(t.received[0]!.ctx.client?.addr, "127.0.0.1");
    assert.equal(t.received[0]!.ctx.client?.metadata, undefined);

    res = await fetch(t.url, {
      method: "POST",
      headers: { ...JSON_H, "content-encoding": "gzip" },
      body: body(zlib.gzipSync(encodeLogsRequestJson(logs))),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(await res.text(), "{}");
    assert.deepEqual(t.received[1]!.logs, logs);
    assert.equal(t.received[1]!.encoded, false);
    const n = t.metrics.value("otelcol_receiver_accepted_log_records", {
      receiver: "otlp",
      transport: "http",
    });
    assert.equal(
      n,
      2 * t.received[0]!.logs.resourceLogs.flatMap((r) => r.scopeLogs)
        .reduce((s, sl) => s + sl.logRecords.length, 0),
    );
    // Zero records: 200 without a call into the pipeline.
    res = await fetch(t.url, {
      method: "POST",
      headers: PB,
      body: body(encodeLogsRequest(newLogs())),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.equal(t.received.length, 2);
  } finally {
    await t.close();
  }
});

Deno.test("otlp http: request bytes go on as they are only to a pipeline that changes nothing, and only in the plain form", async () => {
  const post = (url: string, b: Uint8Array) =>
    fetch(url, { method: "POST", headers: PB, body: body(b) }).then((r) => r.arrayBuffer());
  const logs = randomLogs(9, { maxResources: 3 });
  const bytesOf = encodeLogsRequest(logs);
  const changing = await startReceiver({}, undefined, {}, true, true);
  try {
    await post(changing.url, bytesOf);
    assert.deepEqual(changing.received.map((r) => [r.encoded, r.logs]), [[false, logs]]);
  } finally {
    await changing.close();
  }
  const t = await startReceiver();
  try {
    // An unknown field (99, varint) in the request: decoded, so it is dropped as before.
    await post(t.url, new Uint8Array([...bytesOf, 0x98, 0x06, 0x01]));
    // Invalid UTF-8 in a string value: decoded, so it reads U+FFFD as before.
    const text = sampleLogs(1);
    const raw = encodeLogsRequest(text);
    const at = raw.indexOf(0x3d); // the "=" of "status=200" in the body
    raw[at] = 0xff;
    await post(t.url, raw);
    // Larger than one check slice (256 KiB): checked a run of resources at a time.
    const big = sampleLogs(3000);
    await post(t.url, encodeLogsRequest(big));
    assert.deepEqual(t.received.map((r) => r.encoded), [false, false, true]);
    assert.deepEqual(t.received[0]!.logs, logs);
    const body0 = t.received[1]!.logs.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body;
    assert.ok(body0?.kind === "string" && body0.value.includes("status\uFFFD200"));
    assert.deepEqual(t.received[2]!.logs, big);
  } finally {
    await t.close();
  }
});

Deno.test("otlp http: 404, 405 and 415 in plain text as upstream", async () => {
  const t = await startReceiver({ logs_url_path: "logs" });
  try {
    assert.ok(t.url.endsWith("/logs"), "a leading / is added");
    let res = await fetch(`${t.base}/v1/traces`, { method: "POST", headers: PB, body: "" });
    assert.equal(res.status, 404);
    await res.body?.cancel();
    res = await fetch(t.url);
    assert.equal(res.status, 405);
    assert.equal(await res.text(), "405 method not allowed, supported: [POST]");
    res = await fetch(t.url, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    assert.equal(res.status, 415);
    assert.match(await res.text(), /application\/json, application\/x-protobuf/);
    res = await fetch(t.url, {
      method: "POST",
      headers: { "content-type": "Application/JSON; charset=utf-8" },
      body: "{}",
    });
    assert.equal(res.status, 200, "media type parameters and case are accepted");
    await res.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("otlp http: 400 with a google.rpc.Status for bodies that do not decode", async () => {
  const t = await startReceiver({ max_request_body_size: 4096 });
  try {
    let res = await fetch(t.url, {
      method: "POST",
      headers: PB,
      body: body(new Uint8Array([0x0a, 0x05, 1])),
    });
    assert.equal(res.status, 400);
    assert.equal(decodeStatus(await bytes(res)).code, 3);
    res = await fetch(t.url, { method: "POST", headers: JSON_H, body: '{"resourceLogs": 5}' });
    assert.equal(res.status, 400);
    const st = await res.json();
    assert.equal(st.code, 3);
    assert.match(st.message, /resourceLogs/);
    res = await fetch(t.url, {
      method: "POST",
      headers: { ...PB, "content-encoding": "br" },
      body: "x",
    });
    assert.equal(res.status, 400);
    assert.match(decodeStatus(await bytes(res)).message, /unsupported Content-Encoding: br/);
    res = await fetch(t.url, { method: "POST", headers: PB, body: body(new Uint8Array(5000)) });
    assert.equal(res.status, 400);
    assert.match(decodeStatus(await bytes(res)).message, /too large/);
    res = await fetch(t.url, {
      method: "POST",
      headers: { ...PB, "content-encoding": "gzip" },
      body: body(zlib.gzipSync(new Uint8Array(5000))),
    });
    assert.equal(res.status, 400, "the limit applies to the decompressed size");
    await res.body?.cancel();
    // Unsupported encoding with a non-OTLP content type: upstream's fixed 500.
    res = await fetch(t.url, {
      method: "POST",
      headers: { "content-type": "text/plain", "content-encoding": "br" },
      body: "x",
    });
    assert.equal(res.status, 500);
    assert.equal((await res.json()).code, 13);
    assert.equal(t.received.length, 0);
  } finally {
    await t.close();
  }
});

Deno.test("otlp http: pipeline refusals map to 503/429/500 with Retry-After when known", async () => {
  const errors: unknown[] = [
    new Error("queue is full"),
    new RetryableError("data refused due to high memory usage", { retryAfterMs: 2500 }),
    new ResourceExhaustedError("quota", { retryAfterMs: 1000 }),
    new PermanentError("cannot be exported"),
  ];
  const t = await startReceiver({}, () => {
    const e = errors.shift();
    return e === undefined ? Promise.resolve() : Promise.reject(e);
  });
  try {
    const send = () =>
      fetch(t.url, { method: "POST", headers: JSON_H, body: encodeLogsRequestJson(sampleLogs(2)) });
    let res = await send();
    assert.deepEqual([res.status, res.headers.get("retry-after")], [503, null]);
    assert.deepEqual(await res.json(), { code: 14, message: "queue is full" });
    res = await send();
    assert.deepEqual([res.status, res.headers.get("retry-after")], [503, "3"]);
    await res.body?.cancel();
    res = await send();
    assert.deepEqual([res.status, res.headers.get("retry-after")], [429, "1"]);
    assert.equal((await res.json()).code, 8);
    res = await send();
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { code: 13, message: "cannot be exported" });
    res = await send();
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const labels = { receiver: "otlp", transport: "http" };
    assert.equal(t.metrics.value("otelcol_receiver_refused_log_records", labels), 8);
    assert.equal(t.metrics.value("otelcol_receiver_accepted_log_records", labels), 2);
  } finally {
    await t.close();
  }
});

Deno.test("otlp http: include_metadata and auth travel to the consumer; 401 without a token", async () => {
  const auth: ServerAuthenticator = {
    start: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    authenticate: (h) =>
      h.get("authorization")?.[0] === "Bearer s3cret"
        ? Promise.resolve({ subject: "agent-1" })
        : Promise.reject(new Error("missing or invalid token")),
  };
  const t = await startReceiver(
    { include_metadata: true, auth: { authenticator: "bearertokenauth" } },
    undefined,
    { bearertokenauth: auth },
  );
  try {
    let res = await fetch(t.url, {
      method: "POST",
      headers: { ...PB, authorization: "Bearer s3cret", "X-Scope-OrgID": "team-a" },
      body: body(encodeLogsRequest(sampleLogs(1))),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const client = t.received[0]!.ctx.client!;
    assert.deepEqual(client.auth, { subject: "agent-1" });
    assert.deepEqual(client.metadata?.get("x-scope-orgid"), ["team-a"]);
    assert.equal(client.addr, "127.0.0.1");
    res = await fetch(t.url, {
      method: "POST",
      headers: PB,
      body: body(encodeLogsRequest(sampleLogs(1))),
    });
    assert.equal(res.status, 401);
    assert.deepEqual(decodeStatus(await bytes(res)), {
      code: 16,
      message: "missing or invalid token",
    });
    assert.equal(t.received.length, 1);
  } finally {
    await t.close();
  }
});

Deno.test("otlp http: encodeStatusProto writes code and message", () => {
  assert.deepEqual(decodeStatus(encodeStatusProto(3, "x".repeat(300))), {
    code: 3,
    message: "x".repeat(300),
  });
  assert.deepEqual(decodeStatus(encodeStatusProto(14, "")), { code: 14, message: "" });
});
