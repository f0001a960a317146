import assert from "node:assert/strict";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import type { OtlpHttpConfig } from "./config.ts";
import { otlpHttpFactory } from "./mod.ts";

function parse(plain: unknown): { cfg: OtlpHttpConfig; issues: ConfigIssues; text: string } {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "exporters::otlp_http", issues);
  const cfg = otlpHttpFactory.parseConfig(r);
  r.done();
  const text = issues.list.map((i) => `${i.severity} ${i.path}: ${i.message}`).join("\n");
  return { cfg, issues, text };
}

Deno.test("otlpHttpFactory has upstream's type and the older alias", () => {
  assert.equal(otlpHttpFactory.type, "otlp_http");
  assert.deepEqual(otlpHttpFactory.aliases, ["otlphttp"]);
  assert.equal(otlpHttpFactory.kind, "exporter");
});

Deno.test("otlp_http config: upstream defaults with only an endpoint", () => {
  const { cfg, issues } = parse({ endpoint: "https://gateway:4318" });
  assert.deepEqual(issues.list, []);
  assert.equal(cfg.logsUrl, "https://gateway:4318/v1/logs");
  assert.equal(cfg.encoding, "proto");
  assert.equal(cfg.compression, "gzip");
  assert.equal(cfg.timeoutMs, 30_000);
  assert.deepEqual(cfg.headers, {});
  assert.equal(cfg.retry.enabled, true);
  assert.equal(cfg.retry.initialIntervalMs, 5000);
  assert.equal(cfg.retry.maxElapsedTimeMs, 300_000);
  assert.equal(cfg.queue.enabled, true);
  assert.equal(cfg.queue.numConsumers, 10);
  assert.equal(cfg.queue.queueSize, 1000);
});

Deno.test("otlp_http config: endpoint paths get /v1/logs appended, logs_endpoint is used as is", () => {
  assert.equal(parse({ endpoint: "http://h:4318/" }).cfg.logsUrl, "http://h:4318/v1/logs");
  assert.equal(parse({ endpoint: "http://h/otlp" }).cfg.logsUrl, "http://h/otlp/v1/logs");
  const both = parse({ endpoint: "http://h:4318", logs_endpoint: "https://logs.example/ingest" });
  assert.equal(both.cfg.logsUrl, "https://logs.example/ingest");
  assert.deepEqual(both.issues.list, []);
});

Deno.test("otlp_http config: a missing or schemeless endpoint is an error saying what to write", () => {
  assert.match(
    parse({}).text,
    /Set "endpoint" \(e\.g\. "https:\/\/otlp\.example\.com:4318"\) or "logs_endpoint"/,
  );
  assert.match(
    parse({ endpoint: "gateway:4318" }).text,
    /endpoint: Invalid URL "gateway:4318".*scheme/,
  );
  assert.match(parse({ endpoint: "ftp://h" }).text, /scheme must be "http" or "https"/);
});

Deno.test("otlp_http config: encoding, compression, level, headers, timeout, proxy, auth", () => {
  const { cfg, issues } = parse({
    endpoint: "http://h:4318",
    encoding: "json",
    compression: "zstd",
    compression_params: { level: 6 },
    headers: { "X-Scope-OrgID": "tenant-a" },
    timeout: "5s",
    proxy_url: "http://proxy:3128",
    auth: { authenticator: "bearertokenauth" },
  });
  assert.deepEqual(issues.list, []);
  assert.equal(cfg.encoding, "json");
  assert.equal(cfg.compression, "zstd");
  assert.equal(cfg.compressionLevel, 6);
  assert.deepEqual(cfg.headers, { "X-Scope-OrgID": "tenant-a" });
  assert.equal(cfg.timeoutMs, 5000);
  assert.equal(cfg.proxyUrl, "http://proxy:3128");
  assert.equal(cfg.authenticator, "bearertokenauth");
  assert.equal(parse({ endpoint: "http://h", compression: "none" }).cfg.compression, "none");
  assert.equal(parse({ endpoint: "http://h", compression: "" }).cfg.compression, "none");
});

Deno.test("otlp_http config: unsupported compressions and bad levels are errors naming them", () => {
  for (const c of ["snappy", "lz4", "x-snappy-framed"]) {
    assert.match(
      parse({ endpoint: "http://h", compression: c }).text,
      new RegExp(`Compression "${c}" is not supported yet`),
    );
  }
  assert.match(
    parse({ endpoint: "http://h", compression: "brotli" }).text,
    /Invalid value "brotli"/,
  );
  assert.match(
    parse({ endpoint: "http://h", compression: "zstd", compression_params: { level: 5 } }).text,
    /Invalid level 5 for zstd: use 1, 3, 6 or 11/,
  );
  assert.match(
    parse({ endpoint: "http://h", compression_params: { level: 12 } }).text,
    /Invalid level 12 for gzip/,
  );
  assert.equal(
    parse({ endpoint: "http://h", compression_params: { level: -1 } }).issues.errors.length,
    0,
  );
  for (const c of ["zlib", "deflate"]) {
    const { cfg, text } = parse({
      endpoint: "http://h",
      compression: c,
      compression_params: { level: 1 },
    });
    assert.equal(text, "");
    assert.equal(cfg.compression, c);
    assert.equal(cfg.compressionLevel, 1);
    assert.match(
      parse({ endpoint: "http://h", compression: c, compression_params: { level: 10 } }).text,
      new RegExp(`Invalid level 10 for ${c}: use 1 to 9, or -1`),
    );
  }
});

Deno.test("otlp_http config: TLS settings Deno cannot honour are errors, never ignored", () => {
  const { text } = parse({
    endpoint: "https://h",
    tls: {
      max_version: "1.1",
      cipher_suites: ["TLS_AES_128_GCM_SHA256"],
      curve_preferences: ["X25519"],
      reload_interval: "1h",
    },
  });
  assert.match(text, /tls::max_version: Not supported: Deno speaks TLS 1.2 and 1.3 only/);
  assert.match(text, /tls::cipher_suites: Not supported/);
  assert.match(text, /tls::curve_preferences: Not supported/);
  assert.match(text, /tls::reload_interval: Not supported yet/);
  assert.match(
    parse({ endpoint: "https://h", tls: { min_version: "1.3", max_version: "1.2" } }).text,
    /tls::max_version: Lower than min_version "1.3"/,
  );
  assert.match(
    parse({ endpoint: "https://h", tls: { min_version: "2.0" } }).text,
    /tls::min_version: Invalid TLS version "2.0"/,
  );
});

Deno.test("otlp_http config: skip-verify, server name and TLS version bounds are read", () => {
  const ok = parse({
    endpoint: "https://10.0.0.7:4318",
    tls: {
      insecure_skip_verify: true,
      server_name_override: "gateway.internal",
      min_version: "1.3",
    },
  });
  assert.equal(ok.issues.errors.length, 0, ok.text);
  assert.equal(ok.cfg.tls.insecureSkipVerify, true);
  assert.equal(ok.cfg.tls.serverNameOverride, "gateway.internal");
  assert.equal(ok.cfg.tls.minVersion, "1.3");
  assert.equal(
    parse({ endpoint: "https://h", tls: { max_version: "1.2" } }).cfg.tls.maxVersion,
    "1.2",
  );
  // Older values are honoured as they are: Deno never goes below TLS 1.2 anyway.
  assert.equal(parse({ endpoint: "https://h", tls: { min_version: "1.0" } }).text, "");
  // They need a direct connection.
  assert.match(
    parse({
      endpoint: "https://h",
      proxy_url: "http://proxy:3128",
      tls: { insecure_skip_verify: true },
    }).text,
    /proxy_url: Cannot be combined with tls::insecure_skip_verify here/,
  );
  assert.match(
    parse({ endpoint: "http://h", tls: { insecure_skip_verify: true } }).text,
    /warning .*TLS settings have no effect on an http:\/\/ endpoint/,
  );
});

Deno.test("otlp_http config: TLS files, pairs and the extra-roots warning", () => {
  const ok = parse({
    endpoint: "https://h",
    tls: {
      ca_file: "/ca.pem",
      cert_file: "/c.pem",
      key_file: "/k.pem",
      min_version: "1.2",
      insecure: false,
    },
  });
  assert.equal(ok.issues.errors.length, 0, ok.text);
  assert.equal(ok.cfg.tls.caFile, "/ca.pem");
  assert.match(
    ok.text,
    /warning exporters::otlp_http::tls::ca_file: Deno also trusts its built-in root certificates/,
  );
  assert.equal(
    parse({
      endpoint: "https://h",
      tls: { ca_file: "/ca.pem", include_system_ca_certs_pool: true },
    }).issues.list.length,
    0,
  );
  assert.match(
    parse({ endpoint: "https://h", tls: { cert_file: "/c.pem" } }).text,
    /needs both cert_file and key_file/,
  );
  assert.match(
    parse({ endpoint: "https://h", tls: { ca_file: "/a", ca_pem: "x" } }).text,
    /Set "ca_file" or "ca_pem", not both/,
  );
  assert.match(
    parse({ endpoint: "http://h", tls: { ca_file: "/a" } }).text,
    /TLS settings have no effect on an http:\/\/ endpoint/,
  );
});

Deno.test("otlp_http config: connection settings map to Deno's pool or are refused", () => {
  const { cfg, issues } = parse({
    endpoint: "http://h",
    max_idle_conns: 50,
    max_idle_conns_per_host: 20,
    idle_conn_timeout: "30s",
    force_attempt_http2: false,
    read_buffer_size: "64KiB",
  });
  assert.equal(issues.errors.length, 0);
  assert.equal(cfg.maxIdlePerHost, 20);
  assert.equal(cfg.idleConnTimeoutMs, 30_000);
  assert.equal(cfg.http2, false);
  assert.match(issues.warnings[0]!.message, /Has no effect here/);
  assert.equal(parse({ endpoint: "http://h", disable_keep_alives: true }).cfg.maxIdlePerHost, 0);
  const refused =
    parse({ endpoint: "http://h", max_conns_per_host: 4, cookies: { enabled: true } }).text;
  assert.match(refused, /max_conns_per_host: "max_conns_per_host" is not supported yet/);
  assert.match(refused, /cookies: "cookies" is not supported yet/);
});

Deno.test("otlp_http config: retry_on_failure and sending_queue are read with their checks", () => {
  const { cfg, issues } = parse({
    endpoint: "http://h",
    retry_on_failure: { initial_interval: "1s", max_elapsed_time: 0 },
    sending_queue: { storage: "file_storage/otlp", queue_size: 5000, sizer: "items" },
  });
  assert.deepEqual(issues.list, []);
  assert.equal(cfg.retry.initialIntervalMs, 1000);
  assert.equal(cfg.retry.maxElapsedTimeMs, 0);
  assert.equal(cfg.queue.storage, "file_storage/otlp");
  assert.equal(cfg.queue.waitForResult, false);
  assert.equal(cfg.queue.queueSize, 5000);
  assert.match(
    parse({ endpoint: "http://h", sending_queue: { num_consumers: 0 } }).text,
    /sending_queue::num_consumers: Must be at least 1/,
  );
});

Deno.test("otlp_http config: logs-only, unknown keys and per-signal endpoints", () => {
  const { text } = parse({ endpoint: "http://h", traces_endpoint: "http://t", compresion: "gzip" });
  assert.match(
    text,
    /warning exporters::otlp_http::traces_endpoint: Ignored: this collector exports logs only/,
  );
  assert.match(text, /Unknown key "compresion" \(did you mean "compression"\?\)/);
});
