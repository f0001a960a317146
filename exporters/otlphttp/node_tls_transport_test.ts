import assert from "node:assert/strict";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { isPermanent, RetryableError } from "../../core/consumer.ts";
import { sampleLogs } from "../../core/pdata/testing.ts";
import { makeTestCerts, startOtlpSink, type TestCerts } from "../../tests/fakes/otlp_sink.ts";
import { parseConfig, sendOnce, startExporter } from "./_test_helpers.ts";
import { NodeTlsTransport } from "./node_tls_transport.ts";
import { envProxyFor } from "./transport.ts";

let certsPromise: Promise<TestCerts> | undefined;
function certs(): Promise<TestCerts> {
  certsPromise ??= makeTestCerts();
  return certsPromise;
}

const LABELS = { exporter: "otlp_http" };

/** Fast retries for a few seconds: a regression fails the test instead of hanging it. */
const FAST_RETRY = { initial_interval: "5ms", max_interval: "20ms", max_elapsed_time: "5s" };

/** `p`, or a rejection after `ms`: a regression fails the test instead of hanging it. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Fails at the first error instead of retrying. */
const ONCE = { retry_on_failure: { enabled: false }, sending_queue: { enabled: false } };

Deno.test("otlp_http: insecure_skip_verify sends to a server whose CA it was not given", async () => {
  const c = await certs();
  const sink = await startOtlpSink({ tls: { certs: c } });
  try {
    await sendOnce({
      endpoint: sink.url,
      tls: { insecure_skip_verify: true },
      retry_on_failure: FAST_RETRY,
    }, sampleLogs(3));
    assert.equal(sink.records, 3);
    // The same without it is refused (see the ca_file test): the check is really skipped.
    await assert.rejects(sendOnce({ endpoint: sink.url, ...ONCE }, sampleLogs(1)), RetryableError);
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: server_name_override is the name the certificate is checked against", async () => {
  const c = await certs();
  const sink = await startOtlpSink({ tls: { certs: c } }); // its certificate names localhost
  try {
    await sendOnce({
      endpoint: `https://127.0.0.1:${sink.port}`,
      tls: { ca_file: c.caFile, server_name_override: "localhost" },
      retry_on_failure: FAST_RETRY,
    }, sampleLogs(2));
    assert.equal(sink.records, 2);

    // The URL's host is in the certificate; the override is not, and it is what counts.
    await assert.rejects(
      sendOnce({
        endpoint: sink.url,
        tls: { ca_file: c.caFile, server_name_override: "otlp.example" },
        ...ONCE,
      }, sampleLogs(1)),
      (e) => e instanceof RetryableError && /otlp\.example/.test(e.message),
    );
    assert.equal(sink.records, 2);
  } finally {
    await sink.stop();
  }
});

Deno.test("otlp_http: min_version 1.3 and max_version 1.2 bound the TLS version", async () => {
  const c = await certs();
  const only12 = await startOtlpSink({ tls: { certs: c, maxVersion: "TLSv1.2" } });
  const only13 = await startOtlpSink({ tls: { certs: c, minVersion: "TLSv1.3" } });
  try {
    for (
      const [sink, tls, works] of [
        [only12, { min_version: "1.3" }, false],
        [only13, { min_version: "1.3" }, true],
        [only13, { max_version: "1.2" }, false],
        [only12, { max_version: "1.2" }, true],
      ] as const
    ) {
      const t = await startExporter({
        endpoint: sink.url,
        tls: { ca_file: c.caFile, ...tls },
        ...ONCE,
      });
      const sent = t.exporter.consume(sampleLogs(1), {});
      if (works) await sent;
      else await assert.rejects(sent, RetryableError, `${JSON.stringify(tls)} must fail here`);
      await t.exporter.shutdown();
    }
    assert.equal(only12.records + only13.records, 2);
  } finally {
    await only12.stop();
    await only13.stop();
  }
});

Deno.test("otlp_http: with the node:https transport, mTLS, statuses and timeouts work as with fetch", async () => {
  const c = await certs();
  const sink = await startOtlpSink({ tls: { certs: c, requireClientCert: true } });
  const tls = {
    insecure_skip_verify: true,
    cert_file: c.clientCertFile,
    key_file: c.clientKeyFile,
  };
  try {
    sink.script(
      { kind: "status", status: 503, retryAfter: "7" },
      { kind: "status", status: 400, message: "field body is malformed" },
      { kind: "slow", delayMs: 400 },
      { kind: "partial", rejected: 1, message: "one too old" },
    );
    await assert.rejects(
      sendOnce({ endpoint: sink.url, tls, ...ONCE }, sampleLogs(1)),
      (e) => e instanceof RetryableError && e.retryAfterMs === 7000,
    );
    await assert.rejects(
      sendOnce({ endpoint: sink.url, tls, ...ONCE }, sampleLogs(1)),
      (e) => isPermanent(e) && /HTTP 400: field body is malformed/.test((e as Error).message),
    );
    const t = await startExporter({
      endpoint: sink.url,
      tls,
      timeout: "100ms",
      retry_on_failure: FAST_RETRY,
    });
    await t.exporter.consume(sampleLogs(2), {}); // slow → timed out → retried → partial
    await t.exporter.consume(sampleLogs(3), {});
    await t.exporter.shutdown();
    assert.ok(t.lines.some((l) => l.includes("timed out after 100 ms")));
    assert.ok(t.lines.some((l) => l.includes("one too old")));
    assert.equal(
      t.metrics.value("otelcol_exporter_send_failed_log_records", {
        exporter: "otlp_http",
      }),
      1,
    );
    assert.ok(sink.requests.every((r) => r.clientCert === "client"));
    // 503, 400, the slow one (given up), its retry (partial success), the last batch.
    assert.equal(sink.requests.length, 5);
    assert.equal(sink.records, 2 + 3);
  } finally {
    await sink.stop();
  }
});

Deno.test("NodeTlsTransport refuses to bypass a proxy the environment sets for the endpoint", async () => {
  const cfg = parseConfig({
    endpoint: "https://gateway.internal:4318",
    tls: { insecure_skip_verify: true },
  });
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  await assert.rejects(
    NodeTlsTransport.create(cfg, env({ HTTPS_PROXY: "http://proxy:3128" })),
    /tls::insecure_skip_verify cannot be used through a proxy.*http:\/\/proxy:3128 for gateway\.internal:4318.*NO_PROXY/,
  );
  const t = await NodeTlsTransport.create(
    cfg,
    env({ HTTPS_PROXY: "http://proxy:3128", NO_PROXY: "localhost,.internal" }),
  );
  t.close();
});

Deno.test("envProxyFor() reads HTTPS_PROXY/HTTP_PROXY and NO_PROXY like Go's net/http", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const url = new URL("https://a.gateway.internal:4318/v1/logs");
  const proxy = { https_proxy: "http://p:1" };
  assert.equal(envProxyFor(url, env({})), "");
  assert.equal(envProxyFor(url, env(proxy)), "http://p:1");
  assert.equal(envProxyFor(url, env({ HTTP_PROXY: "http://p:2" })), "", "http:// only");
  assert.equal(envProxyFor(new URL("http://h/"), env({ HTTP_PROXY: "http://p:2" })), "http://p:2");
  for (const noProxy of ["*", "gateway.internal", ".gateway.internal", "x, a.gateway.internal"]) {
    assert.equal(envProxyFor(url, env({ ...proxy, NO_PROXY: noProxy })), "", noProxy);
  }
  assert.equal(envProxyFor(url, env({ ...proxy, no_proxy: "internal:4318" })), "");
  for (const noProxy of ["other.internal", "internal:443", "teway.internal", "a.gateway"]) {
    assert.equal(envProxyFor(url, env({ ...proxy, NO_PROXY: noProxy })), "http://p:1", noProxy);
  }
  const v6 = new URL("https://[::1]:4318/");
  assert.equal(envProxyFor(v6, env({ ...proxy, NO_PROXY: "::1" })), "");
  assert.equal(envProxyFor(v6, env({ ...proxy, NO_PROXY: "[::1]:4318" })), "");
});

Deno.test("otlp_http: an answer whose body stalls ends at the timeout, on both transports", async () => {
  // 200 with its body cut short and never finished: the data was accepted, so the exporter
  // must neither hang nor send it again; it warns that the answer could not be read.
  const c = await certs();
  const requests: string[] = [];
  const server = https.createServer({
    cert: await Deno.readTextFile(c.serverCertFile),
    key: await Deno.readTextFile(c.serverKeyFile),
  }, (req, res) => {
    requests.push(req.url ?? "");
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/x-protobuf", "content-length": "64" });
      res.write(new Uint8Array(8));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const endpoint = `https://localhost:${(server.address() as AddressInfo).port}`;
  try {
    for (const tls of [{ ca_file: c.caFile }, { insecure_skip_verify: true }]) {
      const t = await within(
        10_000,
        sendOnce({ endpoint, tls, timeout: "200ms", ...ONCE }, sampleLogs(2)),
      );
      assert.ok(
        t.lines.some((l) => l.includes("Could not read the response body of an accepted request")),
        JSON.stringify(tls),
      );
      assert.equal(t.metrics.value("otelcol_exporter_sent_log_records", LABELS), 2);
    }
    assert.equal(requests.length, 2, "one request per transport, no resend");
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
