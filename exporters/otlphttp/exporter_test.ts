import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { isPermanent, RetryableError } from "../../core/consumer.ts";
import type { ClientAuthenticator } from "../../core/auth.ts";
import { EncodedLogs } from "../../core/pdata/encoded_logs.ts";
import { cloneLogs, logRecordCount } from "../../core/pdata/logs.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { OTLP_PROTO_DIR, randomLogs, sampleLogs } from "../../core/pdata/testing.ts";
import {
  encodeStatus,
  makeTestCerts,
  startOtlpSink,
  type TestCerts,
} from "../../tests/fakes/otlp_sink.ts";
import { FAST_RETRY, parseConfig, startExporter } from "./_test_helpers.ts";
import { OtlpHttpSender, statusMessage, userAgent } from "./exporter.ts";
import type { RequestBody } from "./transport.ts";

const LABELS = { exporter: "otlp_http" };

let certsPromise: Promise<TestCerts> | undefined;
function certs(): Promise<TestCerts> {
  certsPromise ??= makeTestCerts();
  return certsPromise;
}

Deno.test("otlp_http: every body decodes with the independent decoder, in both encodings and all compressions", async () => {
  const sink = await startOtlpSink();
  try {
    let seed = 100;
    for (const encoding of ["proto", "json"]) {
      for (const compression of ["gzip", "zstd", "zlib", "deflate", "none"]) {
        const t = await startExporter({
          endpoint: sink.url,
          encoding,
          compression,
          headers: { "X-Scope-OrgID": "tenant-a" },
          retry_on_failure: { enabled: false },
        });
        let logs = randomLogs(++seed);
        while (logRecordCount(logs) === 0) logs = randomLogs(++seed);
        const expected = cloneLogs(logs);
        await t.exporter.consume(logs, {});
        await t.exporter.shutdown();
        const req = sink.requests.at(-1)!;
        const what = `${encoding}/${compression}`;
        assert.equal(req.decodeError, undefined, `${what}: ${req.decodeError}`);
        assert.deepEqual(req.logs, expected, what);
        assert.equal(req.method, "POST");
        assert.equal(req.path, "/v1/logs");
        assert.equal(
          req.headers["content-type"],
          encoding === "json" ? "application/json" : "application/x-protobuf",
        );
        assert.equal(
          req.headers["content-encoding"],
          compression === "none" ? undefined : compression,
          what,
        );
        assert.equal(req.headers["x-scope-orgid"], "tenant-a");
        assert.match(
          req.headers["user-agent"]!,
          /^otelcol-deno\/0\.1\.0 \(linux\/(amd64|arm64)\)$/,
        );
        if (compression !== "none") {
          assert.ok(req.rawBody.length < req.body.length, `${what} compressed`);
        }
      }
    }
  } finally {
    await sink.stop();
  }
});

function protocInstalled(): boolean {
  try {
    return new Deno.Command("protoc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const HAVE_PROTOC = protocInstalled();

Deno.test({
  name: "otlp_http: protoc --decode reads the request body",
  // Without protoc the check is reported as ignored, unless REQUIRE_PROTOC=1 makes it fail.
  ignore: !HAVE_PROTOC && Deno.env.get("REQUIRE_PROTOC") !== "1",
  fn: async () => {
    assert.ok(HAVE_PROTOC, "protoc is required (REQUIRE_PROTOC=1) but not installed");
    const sink = await startOtlpSink();
    let body: Uint8Array;
    try {
      const e = await startExporter({
        endpoint: sink.url,
        compression: "none",
        retry_on_failure: { enabled: false },
      });
      await e.exporter.consume(sampleLogs(3), {});
      await e.exporter.shutdown();
      body = sink.requests[0]!.body;
    } finally {
      await sink.stop();
    }
    const child = new Deno.Command("protoc", {
      args: [
        "--decode",
        "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
        "-I",
        OTLP_PROTO_DIR,
        "opentelemetry/proto/collector/logs/v1/logs_service.proto",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(body);
    await w.close();
    const protoc = await child.output();
    const text = new TextDecoder().decode(protoc.stdout);
    assert.ok(protoc.success, new TextDecoder().decode(protoc.stderr));
    assert.match(text, /resource_logs \{/);
    assert.equal((text.match(/log_records \{/g) ?? []).length, 3);
    assert.match(text, /time_unix_nano: \d+/);
    assert.match(text, /string_value: "/);
  },
});

Deno.test("otlp_http: partial success is logged and its rejected records counted as failed", async () => {
  const sink = await startOtlpSink();
  try {
    for (const encoding of ["proto", "json"]) {
      sink.script({ kind: "partial", rejected: 2, message: "2 records too old" });
      const t = await startExporter({ endpoint: sink.url, encoding, retry_on_failure: FAST_RETRY });
      await t.exporter.consume(sampleLogs(5), {});
      await t.exporter.shutdown();
      assert.equal(t.metrics.value("otelcol_exporter_sent_log_records", LABELS), 3, encoding);
      assert.equal(
        t.metrics.value("otelcol_exporter_send_failed_log_records", LABELS),
        2,
        encoding,
      );
      const warn = t.lines.find((l) => l.includes("Partial success response"));
      assert.ok(warn, encoding);
      assert.match(warn!, /2 records too old/);
      assert.match(warn!, /"dropped_log_records":2/);
    }
    assert.equal(sink.requests.length, 2, "a partial success is not retried");
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: 400 and other non-retryable statuses are permanent, with the Status message", async () => {
  const sink = await startOtlpSink();
  try {
    for (
      const [status, encoding, pattern] of [
        [400, "proto", /HTTP 400: field body is malformed/],
        [400, "json", /HTTP 400: field body is malformed/],
        [413, "proto", /HTTP 413.*lower the batch size/],
        [500, "proto", /HTTP 500/],
        [401, "json", /HTTP 401.*check the credentials/],
      ] as const
    ) {
      const before = sink.requests.length;
      sink.script({ kind: "status", status, message: "field body is malformed" });
      const t = await startExporter({ endpoint: sink.url, encoding, retry_on_failure: FAST_RETRY });
      await assert.rejects(
        t.exporter.consume(sampleLogs(4), {}),
        (e) => isPermanent(e) && pattern.test((e as Error).message),
      );
      await t.exporter.shutdown();
      assert.equal(sink.requests.length - before, 1, `${status} is not retried`);
      assert.equal(t.metrics.value("otelcol_exporter_send_failed_log_records", LABELS), 4);
      assert.equal(t.lines.filter((l) => l.includes("not retryable")).length, 1, "logged once");
    }
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: a plain-text error body is quoted in the message", async () => {
  const sink = await startOtlpSink();
  try {
    sink.script({
      kind: "status",
      status: 404,
      rawBody: { contentType: "text/plain", text: "404 page not found\n" },
    });
    const t = await startExporter({ endpoint: sink.url, retry_on_failure: FAST_RETRY });
    await assert.rejects(
      t.exporter.consume(sampleLogs(1), {}),
      /HTTP 404: 404 page not found \(check endpoint/,
    );
    await t.exporter.shutdown();
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: 429, 502, 503, 504 and a reset connection are retried until accepted", async () => {
  const sink = await startOtlpSink();
  try {
    sink.script(
      { kind: "status", status: 429 },
      { kind: "status", status: 502 },
      { kind: "status", status: 503 },
      { kind: "status", status: 504 },
      { kind: "reset" },
    );
    const t = await startExporter({ endpoint: sink.url, retry_on_failure: FAST_RETRY });
    await t.exporter.consume(sampleLogs(3), {});
    await t.exporter.shutdown();
    assert.deepEqual(sink.requests.map((r) => r.reply), [
      "status",
      "status",
      "status",
      "status",
      "reset",
      "ok",
    ]);
    assert.equal(sink.records, 3);
    assert.equal(t.metrics.value("otelcol_exporter_sent_log_records", LABELS), 3);
    assert.equal(t.metrics.value("otelcol_exporter_send_failed_log_records", LABELS), 0);
    assert.ok(t.lines.some((l) => l.includes("Will retry the request after interval")));
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: Retry-After (seconds and HTTP date) reaches the retry as retryAfterMs", async () => {
  const sink = await startOtlpSink();
  try {
    const date = new Date(Date.now() + 120_000).toUTCString();
    sink.script(
      { kind: "status", status: 429, retryAfter: "7" },
      { kind: "status", status: 503, retryAfter: date },
    );
    const t = await startExporter({
      endpoint: sink.url,
      retry_on_failure: { enabled: false },
      sending_queue: { enabled: false },
    });
    await assert.rejects(
      t.exporter.consume(sampleLogs(1), {}),
      (e) => e instanceof RetryableError && e.retryAfterMs === 7000,
    );
    await assert.rejects(
      t.exporter.consume(sampleLogs(1), {}),
      (e) => e instanceof RetryableError && e.retryAfterMs! > 100_000 && e.retryAfterMs! <= 120_000,
    );
    await t.exporter.shutdown();
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: a slow backend hits the per-attempt timeout and is retried", async () => {
  const sink = await startOtlpSink();
  try {
    sink.script({ kind: "slow", delayMs: 400 });
    const t = await startExporter({
      endpoint: sink.url,
      timeout: "100ms",
      retry_on_failure: FAST_RETRY,
    });
    await t.exporter.consume(sampleLogs(2), {});
    await t.exporter.shutdown();
    assert.equal(sink.requests.length, 2);
    assert.ok(t.lines.some((l) => l.includes("timed out after 100 ms")));
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: an unreachable backend is a retryable error naming the URL", async () => {
  const sink = await startOtlpSink();
  const url = sink.url;
  await sink.stop();
  const t = await startExporter({
    endpoint: url,
    retry_on_failure: { enabled: false },
    sending_queue: { enabled: false },
  });
  await assert.rejects(
    t.exporter.consume(sampleLogs(1), {}),
    (e) => e instanceof RetryableError && !isPermanent(e) && e.message.includes(`${url}/v1/logs`),
  );
  await t.exporter.shutdown();
});

Deno.test("otlp_http: HTTPS with ca_file, and refusal without the CA", async () => {
  const c = await certs();
  const sink = await startOtlpSink({ tls: { certs: c } });
  try {
    const t = await startExporter({
      endpoint: sink.url,
      tls: { ca_file: c.caFile },
      retry_on_failure: FAST_RETRY,
    });
    await t.exporter.consume(sampleLogs(2), {});
    await t.exporter.shutdown();
    assert.equal(sink.records, 2);

    const pem = await startExporter({
      endpoint: sink.url,
      tls: { ca_pem: c.caPem },
      retry_on_failure: FAST_RETRY,
    });
    await pem.exporter.consume(sampleLogs(1), {});
    await pem.exporter.shutdown();
    assert.equal(sink.records, 3);

    const untrusted = await startExporter({
      endpoint: sink.url,
      retry_on_failure: { enabled: false },
      sending_queue: { enabled: false },
    });
    await assert.rejects(
      untrusted.exporter.consume(sampleLogs(1), {}),
      /certificate|UnknownIssuer|invalid peer/i,
    );
    await untrusted.exporter.shutdown();
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: mTLS sends the client certificate; without it, or with a stranger's, it fails", async () => {
  const c = await certs();
  const sink = await startOtlpSink({ tls: { certs: c, requireClientCert: true } });
  try {
    const t = await startExporter({
      endpoint: sink.url,
      tls: { ca_file: c.caFile, cert_file: c.clientCertFile, key_file: c.clientKeyFile },
      retry_on_failure: FAST_RETRY,
    });
    await t.exporter.consume(sampleLogs(2), {});
    await t.exporter.shutdown();
    assert.equal(sink.records, 2);
    assert.equal(sink.requests[0]!.clientCert, "client");

    for (
      const tls of [{ ca_file: c.caFile }, {
        ca_file: c.caFile,
        cert_file: c.strangerCertFile,
        key_file: c.strangerKeyFile,
      }]
    ) {
      const bad = await startExporter({
        endpoint: sink.url,
        tls,
        retry_on_failure: { enabled: false },
        sending_queue: { enabled: false },
      });
      await assert.rejects(bad.exporter.consume(sampleLogs(1), {}), RetryableError);
      await bad.exporter.shutdown();
    }
    assert.equal(sink.records, 2);
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: a missing certificate file fails start, naming the key and path", async () => {
  await assert.rejects(
    startExporter({ endpoint: "https://localhost:1", tls: { ca_file: "/nonexistent/ca.pem" } }),
    /tls::ca_file: cannot read "\/nonexistent\/ca\.pem"/,
  );
});

Deno.test("otlp_http: auth::authenticator adds its headers, with the client metadata at hand", async () => {
  const sink = await startOtlpSink();
  const seen: unknown[] = [];
  const auth: ClientAuthenticator = {
    start: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    getRequestHeaders: (client) => {
      seen.push(client?.metadata?.get("x-tenant"));
      return Promise.resolve({ authorization: "Bearer s3cret" });
    },
  };
  try {
    const t = await startExporter({
      endpoint: sink.url,
      auth: { authenticator: "bearertokenauth" },
    }, {
      bearertokenauth: auth,
    });
    await t.exporter.consume(sampleLogs(1), {
      client: { metadata: new Map([["x-tenant", ["a"]]]) },
    });
    await t.exporter.shutdown();
    assert.equal(sink.requests[0]!.headers["authorization"], "Bearer s3cret");
    assert.deepEqual(seen, [["a"]]);
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: a missing or unsuitable authenticator fails start, naming it", async () => {
  await assert.rejects(
    startExporter({ endpoint: "http://127.0.0.1:1", auth: { authenticator: "bearertokenauth" } }),
    /Authenticator "bearertokenauth" is not running/,
  );
  const notAuth = { start: () => Promise.resolve(), shutdown: () => Promise.resolve() };
  await assert.rejects(
    startExporter({ endpoint: "http://127.0.0.1:1", auth: { authenticator: "file_storage" } }, {
      file_storage: notAuth,
    }),
    /Extension "file_storage" cannot authenticate outgoing requests/,
  );
});

Deno.test("otlp_http: proxy_url sends every request through the proxy", async () => {
  const sink = await startOtlpSink();
  const proxied: string[] = [];
  // A minimal forward proxy for http:// URLs (absolute-form request targets).
  const proxy = http.createServer((req, res) => {
    proxied.push(req.url ?? "");
    const target = new URL(req.url ?? "");
    const up = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: req.method,
      headers: req.headers,
    }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
  try {
    const port = (proxy.address() as AddressInfo).port;
    const t = await startExporter({
      endpoint: sink.url,
      proxy_url: `http://127.0.0.1:${port}`,
      retry_on_failure: FAST_RETRY,
    });
    await t.exporter.consume(sampleLogs(2), {});
    await t.exporter.shutdown();
    assert.deepEqual(proxied, [`${sink.url}/v1/logs`]);
    assert.equal(sink.records, 2);
  } finally {
    await new Promise((r) => proxy.close(r));
    await sink.stop();
  }
});

Deno.test("statusMessage() reads field 2 of a google.rpc.Status and refuses garbage", () => {
  assert.equal(statusMessage(encodeStatus(3, "bad timestamp")), "bad timestamp");
  assert.equal(statusMessage(new Uint8Array([0x08, 0x05])), undefined);
  assert.equal(statusMessage(new Uint8Array([0x12, 0x10, 0x41])), undefined, "length past the end");
  assert.equal(statusMessage(new TextEncoder().encode("<html>oops</html>")), undefined);
});

Deno.test("userAgent() follows upstream's <description>/<version> (<os>/<arch>)", () => {
  const ua = userAgent(
    {
      buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "1.2.3" },
    } as Parameters<typeof userAgent>[0],
  );
  assert.match(ua, /^otelcol-deno\/1\.2\.3 \([a-z]+\/[a-z0-9_]+\)$/);
  assert.ok(!ua.includes("x86_64"), "Go's arch names, as upstream");
});

Deno.test("otlp_http: large batches survive the async compression path intact", async () => {
  const sink = await startOtlpSink();
  try {
    const t = await startExporter({ endpoint: sink.url, retry_on_failure: FAST_RETRY });
    const logs = sampleLogs(3000);
    const n = logRecordCount(logs);
    const expected = cloneLogs(logs);
    await t.exporter.consume(logs, {});
    await t.exporter.shutdown();
    assert.ok(sink.requests[0]!.body.length > 256 * 1024, "large enough for the async path");
    assert.deepEqual(sink.requests[0]!.logs, expected);
    assert.equal(sink.records, n);
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: without proxy_url, HTTP_PROXY and NO_PROXY from the environment apply", async () => {
  const sink = await startOtlpSink();
  const proxied: string[] = [];
  const proxy = http.createServer((req, res) => {
    proxied.push(req.url ?? "");
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
  const saved = { HTTP_PROXY: Deno.env.get("HTTP_PROXY"), NO_PROXY: Deno.env.get("NO_PROXY") };
  try {
    Deno.env.set("HTTP_PROXY", `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    Deno.env.delete("NO_PROXY");
    const via = await startExporter({ endpoint: sink.url, retry_on_failure: FAST_RETRY });
    await via.exporter.consume(sampleLogs(1), {});
    await via.exporter.shutdown();
    assert.deepEqual(proxied, [`${sink.url}/v1/logs`]);
    assert.equal(sink.records, 0);

    Deno.env.set("NO_PROXY", "127.0.0.1");
    const direct = await startExporter({ endpoint: sink.url, retry_on_failure: FAST_RETRY });
    await direct.exporter.consume(sampleLogs(1), {});
    await direct.exporter.shutdown();
    assert.equal(proxied.length, 1);
    assert.equal(sink.records, 1);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
    await new Promise((r) => proxy.close(r));
    await sink.stop();
  }
});

/** A compressed body, which is always bytes (only an uncompressed one is a Blob). */
async function compressedBody(body: Promise<RequestBody>): Promise<Uint8Array> {
  const b = await body;
  assert.ok(b instanceof Uint8Array);
  return b;
}

Deno.test("otlp_http: a batch is encoded and compressed once, however often it is retried", async () => {
  const config = parseConfig({ endpoint: "http://127.0.0.1:1", compression: "gzip" });
  const t = await startExporter({ endpoint: "http://127.0.0.1:1" });
  await t.exporter.shutdown();
  const sender = new OtlpHttpSender(t.settings, config);
  try {
    const logs = sampleLogs(20);
    const logs2 = sampleLogs(5);
    const first = await sender.body(logs);
    assert.equal(await sender.body(logs), first, "the same bytes, not a second encoding");
    assert.notEqual(await sender.body(cloneLogs(logs)), first, "another batch has its own body");
    // Bytes read back from a persistent queue are sent as they are, not encoded again.
    const stored = encodeLogsRequest(sampleLogs(3));
    const expected = stored.slice();
    const fromQueue = await compressedBody(sender.body(sampleLogs(20), stored));
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(fromQueue)), expected);
    // Once those bytes were used up, a new attempt encodes the logs.
    const again = await compressedBody(sender.body(logs2, new Uint8Array(0)));
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(again)), encodeLogsRequest(logs2));
  } finally {
    await sender.shutdown();
  }
});

/** A gzip sender (no exporter around it) whose compression worker already runs. */
async function gzipSenderWithWorker(): Promise<OtlpHttpSender> {
  const config = parseConfig({ endpoint: "http://127.0.0.1:1", compression: "gzip" });
  const t = await startExporter({ endpoint: "http://127.0.0.1:1" });
  await t.exporter.shutdown();
  const sender = new OtlpHttpSender(t.settings, config);
  await sender.body(sampleLogs(2000)); // large enough to start the worker
  return sender;
}

Deno.test("otlp_http: a protobuf body made in parts (many resources, worker running) is exactly the request", async () => {
  const sender = await gzipSenderWithWorker();
  try {
    // 12 batches of 4 resources joined: parts of ~1,024 records cut between resources.
    const logs = {
      resourceLogs: Array.from({ length: 12 }, () => sampleLogs(800).resourceLogs).flat(),
    };
    const expected = encodeLogsRequest(logs);
    const body = await compressedBody(sender.body(logs));
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(body)), expected);
    // One gzip member: its trailer's ISIZE counts the whole request.
    const isize = new DataView(body.buffer, body.byteOffset + body.length - 4, 4);
    assert.equal(isize.getUint32(0, true), expected.length);
  } finally {
    await sender.shutdown();
  }
});

Deno.test("otlp_http: a batch held encoded goes out as its bytes and keeps them for another reader", async () => {
  const sender = await gzipSenderWithWorker();
  try {
    const logs = sampleLogs(3000);
    const bytes = encodeLogsRequest(logs);
    // Pieces as the stanza adapter makes them: views into larger buffers.
    const pieces = [
      bytes.subarray(0, 1000),
      bytes.subarray(1000, 300_000),
      bytes.subarray(300_000),
    ];
    const encoded = new EncodedLogs(pieces, logRecordCount(logs));
    const body = await compressedBody(sender.body(encoded));
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(body)), bytes);
    // The worker got copies: the batch still holds its bytes (a retry after a failed
    // compression, or a second exporter, reads them again).
    assert.equal(pieces[1]!.byteLength, 299_000);
    const other = await compressedBody(sender.body(cloneLogs(encoded)));
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(other)), bytes);
    assert.deepEqual(encoded.resourceLogs, logs.resourceLogs);
  } finally {
    await sender.shutdown();
  }
});

Deno.test("otlp_http: uncompressed, a large batch held encoded is sent from its pieces with its length, the same bytes on a retry, on both transports", async () => {
  const c = await certs();
  for (const tls of [false, true]) {
    const sink = await startOtlpSink(tls ? { tls: { certs: c } } : {});
    try {
      sink.script({ kind: "status", status: 503 });
      const t = await startExporter({
        endpoint: sink.url,
        compression: "none",
        retry_on_failure: FAST_RETRY,
        // Only the node:https transport can skip the check.
        ...(tls ? { tls: { insecure_skip_verify: true } } : {}),
      });
      const logs = sampleLogs(10_000); // 2.1 MB: over the size sent as a Blob
      const bytes = encodeLogsRequest(logs);
      // Pieces as the stanza adapter makes them (views into larger buffers), and one larger
      // than a part.
      const pieces = [
        bytes.subarray(0, 1000),
        bytes.subarray(1000, 300_000),
        bytes.subarray(300_000, 1_000_000),
        bytes.subarray(1_000_000),
      ];
      const encoded = new EncodedLogs(pieces, logRecordCount(logs));
      await t.exporter.consume(encoded, {});
      await t.exporter.shutdown();
      const what = tls ? "node:https" : "fetch";
      assert.equal(sink.requests.length, 2, what);
      for (const req of sink.requests) {
        assert.equal(req.rawBody.length, bytes.length, what);
        assert.ok(req.rawBody.every((b, i) => b === bytes[i]), what);
        assert.equal(req.headers["content-length"], String(bytes.length), what);
        assert.equal(req.headers["transfer-encoding"], undefined, what);
        assert.equal(req.headers["content-encoding"], undefined, what);
      }
      // The body is a Blob of the pieces (fetch reads it while sending), not joined bytes;
      // a small one is bytes.
      const sender = new OtlpHttpSender(
        t.settings,
        parseConfig({ endpoint: sink.url, compression: "none" }),
      );
      const body = await sender.body(encoded);
      assert.ok(body instanceof Blob);
      assert.equal(body.size, bytes.length);
      assert.ok(await sender.body(sampleLogs(10)) instanceof Uint8Array);
      await sender.shutdown();
      // The batch still holds its bytes, for another exporter.
      assert.equal(pieces[1]!.byteLength, 299_000);
      assert.equal(logRecordCount(encoded), 10_000);
    } finally {
      await sink.stop();
    }
  }
});
