import assert from "node:assert/strict";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { parseOtlpReceiverConfig } from "./config.ts";

function parse(plain: Record<string, unknown>) {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "receivers::otlp", issues);
  const cfg = parseOtlpReceiverConfig(r);
  r.done();
  return { cfg, issues: issues.list.map((i) => `${i.severity} ${i.path}: ${i.message}`) };
}

Deno.test("otlp config: protocols::http written empty gets upstream's receiver defaults", () => {
  const { cfg, issues } = parse({ protocols: { http: null } });
  assert.deepEqual(issues, []);
  const http = cfg.http!;
  assert.equal(http.server.endpoint, "localhost:4318");
  assert.equal(http.logsUrlPath, "/v1/logs");
  assert.equal(http.server.maxRequestBodySize, 20 * 1024 * 1024);
  assert.equal(http.server.includeMetadata, false);
  assert.deepEqual(
    [http.server.readHeaderTimeoutMs, http.server.writeTimeoutMs, http.server.idleTimeoutMs],
    [0, 0, 0],
  );
});

Deno.test("otlp config: errors and warnings name the key", () => {
  let { issues } = parse({});
  assert.match(issues.join("\n"), /error receivers::otlp::protocols: Enable at least one protocol/);
  ({ issues } = parse({
    protocols: { http: { traces_url_path: "/t", endpoint: "0.0.0.0:4318", bogus: 1 } },
  }));
  const text = issues.join("\n");
  assert.match(text, /warning receivers::otlp::protocols::http::traces_url_path: Ignored/);
  assert.match(text, /error receivers::otlp::protocols::http::bogus: Unknown key/);
});

Deno.test("otlp config: admission::request_limit_mib (beyond upstream, otelarrow's key) defaults to 128 MiB, 0 turns it off, too small is an error", () => {
  const MiB = 1024 * 1024;
  assert.equal(parse({ protocols: { http: null } }).cfg.requestLimitBytes, 128 * MiB);
  let { cfg, issues } = parse({ protocols: { http: null }, admission: { request_limit_mib: 0 } });
  assert.deepEqual(issues, []);
  assert.equal(cfg.requestLimitBytes, 0);
  ({ issues } = parse({ protocols: { http: null }, admission: { request_limit_mib: 30 } }));
  assert.match(
    issues.join("\n"),
    /error receivers::otlp::admission::request_limit_mib: Must hold one request at protocols::http::max_request_body_size twice .* at least 40/,
  );
  ({ issues } = parse({ protocols: { http: null }, admission: { waiting_limit_mib: 1 } }));
  assert.match(
    issues.join("\n"),
    /error receivers::otlp::admission::waiting_limit_mib: Unknown key/,
  );
});
