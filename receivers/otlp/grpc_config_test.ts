import assert from "node:assert/strict";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { defaultGrpcServerConfig, maxRecvMsgSize, parseGrpcServerConfig } from "./grpc_config.ts";
import { grpcServerOptions } from "./grpc_server.ts";
import { encodeStatusWithRetryInfo, outcomeStatus } from "./grpc_status.ts";
import { decodeRetryDelayMs } from "./_grpc_test_helpers.ts";

function parse(plain: unknown) {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "receivers::otlp::protocols::grpc", issues);
  const cfg = parseGrpcServerConfig(r);
  r.done();
  const text = issues.list.map((i) => `${i.severity} ${i.path}: ${i.message}`).join("\n");
  return { cfg, text };
}

Deno.test("otlp grpc config: upstream's defaults", () => {
  const { cfg, text } = parse(null);
  assert.equal(text, "");
  assert.deepEqual(cfg, defaultGrpcServerConfig());
  assert.equal(cfg.endpoint, "localhost:4317");
  assert.equal(maxRecvMsgSize(cfg), 4 * 1024 * 1024, "grpc's 4 MiB when unset");
  assert.equal(cfg.readBufferSize, 512 * 1024);
  assert.deepEqual(grpcServerOptions(cfg), {
    "grpc.max_receive_message_length": 4 * 1024 * 1024,
    "grpc.enable_channelz": 0,
  });
});

Deno.test("otlp grpc config: every key maps onto grpc-js", () => {
  const { cfg, text } = parse({
    endpoint: "0.0.0.0:14317",
    transport: "tcp",
    max_recv_msg_size_mib: 16,
    max_concurrent_streams: 64,
    include_metadata: true,
    auth: { authenticator: "bearertokenauth/in" },
    keepalive: {
      server_parameters: {
        max_connection_idle: "11s",
        max_connection_age: "12s",
        max_connection_age_grace: "13s",
        time: "30s",
        timeout: "5s",
      },
    },
  });
  assert.equal(text, "");
  assert.equal(cfg.endpoint, "0.0.0.0:14317");
  assert.equal(cfg.authenticator, "bearertokenauth/in");
  assert.equal(cfg.includeMetadata, true);
  assert.deepEqual(grpcServerOptions(cfg), {
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
    "grpc.enable_channelz": 0,
    "grpc.max_concurrent_streams": 64,
    "grpc.max_connection_idle_ms": 11_000,
    "grpc.max_connection_age_ms": 12_000,
    "grpc.max_connection_age_grace_ms": 13_000,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 5_000,
  });
});

Deno.test("otlp grpc config: tls is the shared server section", () => {
  const { cfg, text } = parse({
    tls: { cert_file: "/c.pem", key_file: "/k.pem", client_ca_file: "/ca.pem", min_version: "1.3" },
  });
  assert.equal(text, "");
  assert.equal(cfg.tls?.certFile, "/c.pem");
  assert.equal(cfg.tls?.clientCaFile, "/ca.pem");
  assert.equal(cfg.tls?.minVersion, "1.3");
  assert.match(
    parse({ tls: { key_file: "/k.pem" } }).text,
    /grpc::tls: A server needs a certificate/,
  );
});

Deno.test("otlp grpc config: what grpc-js cannot do is said, never silently ignored", () => {
  const { text } = parse({
    read_buffer_size: "1MiB",
    write_buffer_size: 4096,
    keepalive: { enforcement_policy: { min_time: "10s", permit_without_stream: true } },
  });
  assert.match(text, /warning .*grpc::read_buffer_size: Has no effect here/);
  assert.match(text, /warning .*grpc::write_buffer_size: Has no effect here/);
  assert.match(text, /warning .*grpc::keepalive::enforcement_policy: Not enforced: grpc-js never/);
  assert.doesNotMatch(text, /^error/m);
});

Deno.test("otlp grpc config: bad values are errors with their paths", () => {
  const cases: [unknown, RegExp][] = [
    [{ endpoint: "4317" }, /error .*grpc::endpoint: Invalid endpoint "4317": write host:port/],
    [{ endpoint: "host:99999" }, /grpc::endpoint: Invalid endpoint/],
    [{ transport: "unix" }, /grpc::transport: Only "tcp" is supported/],
    [{ max_recv_msg_size_mib: -1 }, /grpc::max_recv_msg_size_mib: Must be at least 0/],
    [{ max_recv_msg_size_mib: 4096 }, /grpc::max_recv_msg_size_mib: Must be at most 4095/],
    [{ max_concurrent_streams: 1.5 }, /grpc::max_concurrent_streams: Expected a whole number/],
    [{ read_buffer_size: -5 }, /grpc::read_buffer_size: Must be at least 0/],
    [{ auth: {} }, /grpc::auth: Set "authenticator"/],
    [
      { keepalive: { server_parameters: { time: "soon" } } },
      /server_parameters::time: Invalid duration/,
    ],
    [{ middlewares: [{ id: "x" }] }, /grpc::middlewares: "middlewares" is not supported yet/],
    [{ max_request_body_size: 10 }, /grpc::max_request_body_size: Unknown key/],
  ];
  for (const [plain, re] of cases) assert.match(parse(plain).text, re, JSON.stringify(plain));
});

Deno.test("otlp grpc status: outcomes map to upstream's codes; RetryInfo carries the delay", () => {
  assert.equal(outcomeStatus({ kind: "ok" }), undefined);
  assert.deepEqual(outcomeStatus({ kind: "permanent", message: "x" }), { code: 13, details: "x" });
  assert.deepEqual(outcomeStatus({ kind: "retryable", message: "full" }), {
    code: 14,
    details: "full",
  });
  const exhausted = outcomeStatus({ kind: "exhausted", message: "slow down", retryAfterMs: 2500 });
  assert.equal(exhausted?.code, 8);
  assert.equal(decodeRetryDelayMs(exhausted!.statusDetails!, 8), 2500);
  for (const ms of [0, 1, 999, 1000, 61_234, 3_600_000]) {
    assert.equal(decodeRetryDelayMs(encodeStatusWithRetryInfo(14, "m", ms), 14), ms);
  }
});
