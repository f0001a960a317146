/**
 * A pass-through gateway in a whole collector: otlp (HTTP and gRPC) → batch → otlp_http (gzip)
 * to a loopback sink. Nothing in the pipeline changes data, so the receiver hands on each
 * request's bytes, `batch` joins them and the exporter sends them: the sink's decompressed
 * body is the requests' bytes one after the other (in a field order our encoder never
 * writes, so they were not re-encoded), and the records, decoded by the generated code, are
 * those sent. With `attributes` in the pipeline the same requests go the object way
 * and arrive changed as configured.
 */

import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { toBinary } from "@bufbuild/protobuf";
import { BUILTIN_FACTORIES } from "../../components.ts";
import { concatBytes } from "../../core/bytes.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues } from "../../core/config/reader.ts";
import { getAttribute, type Logs } from "../../core/pdata/logs.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { randomLogs, sampleLogs, toGenerated } from "../../core/pdata/testing.ts";
import { ScopeLogsSchema } from "../../core/pdata/gen/opentelemetry/proto/logs/v1/logs_pb.ts";
import { ResourceSchema } from "../../core/pdata/gen/opentelemetry/proto/resource/v1/resource_pb.ts";
import { Registry } from "../../core/registry.ts";
import { parseCollectorConfig } from "../../core/service/config.ts";
import { RawClient } from "../../receivers/otlp/_grpc_test_helpers.ts";
import { startWithOtlpAddress } from "../fakes/component_harness.ts";
import { startOtlpSink } from "../fakes/otlp_sink.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

async function gateway(sinkUrl: string, processors: Record<string, unknown>) {
  const grpcPort = freePort();
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      receivers: {
        otlp: {
          protocols: {
            http: { endpoint: "127.0.0.1:0" },
            grpc: { endpoint: `127.0.0.1:${grpcPort}` },
          },
        },
      },
      // One batch for all three requests: sent when the 5,000th record arrives.
      processors: { batch: { send_batch_size: 5000, timeout: "10s" }, ...processors },
      exporters: { otlp_http: { endpoint: sinkUrl, compression: "gzip" } },
      service: {
        telemetry: { metrics: { level: "none" } },
        pipelines: {
          logs: {
            receivers: ["otlp"],
            processors: [...Object.keys(processors), "batch"],
            exporters: ["otlp_http"],
          },
        },
      },
    }),
    new Registry(BUILTIN_FACTORIES),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  const { collector, address } = await startWithOtlpAddress(config);
  return { collector, url: `http://${address}/v1/logs`, grpcAddress: `127.0.0.1:${grpcPort}` };
}

/** Sends `requests` (the last over gRPC) at once; resolves with their statuses. */
async function sendAll(url: string, grpcAddress: string, requests: Uint8Array[]) {
  const client = new RawClient(grpcAddress);
  try {
    return await Promise.all(requests.map(async (bytes, i) => {
      if (i === requests.length - 1) return (await client.export(bytes)).code;
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-protobuf" },
        body: new Uint8Array(bytes),
      });
      await res.body?.cancel();
      return res.status;
    }));
  } finally {
    client.close();
  }
}

function framed(tag: number, body: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = body.length;
  for (; n >= 0x80; n >>>= 7) len.push((n & 0x7f) | 0x80);
  len.push(n);
  return concatBytes([new Uint8Array([tag, ...len]), body]);
}

const SCOPE_SCHEMA = "https://example.com/scope-schema";

/**
 * `logs` encoded in a field order our encoder never writes, so bytes that arrive in this order
 * were handed on, not re-encoded: each resource (and schema URL) after its scopes, and each
 * scope's schema URL (set for the purpose) before its scope and records. Returns the request
 * and its scope_logs fields.
 */
function oddlyOrdered(logs: Logs): { request: Uint8Array; scopeFields: Uint8Array[] } {
  const msg = toGenerated(logs);
  const scopeFields: Uint8Array[] = [];
  const request = concatBytes(msg.resourceLogs.map((rl) => {
    const scopes = rl.scopeLogs.map((sl) => {
      const field = framed(
        0x12,
        concatBytes([
          framed(0x1a, new TextEncoder().encode(SCOPE_SCHEMA)),
          toBinary(ScopeLogsSchema, { ...sl, schemaUrl: "" }),
        ]),
      );
      scopeFields.push(field);
      return field;
    });
    return framed(
      0x0a,
      concatBytes([
        ...scopes,
        framed(0x0a, toBinary(ResourceSchema, rl.resource!)),
        ...(rl.schemaUrl ? [framed(0x1a, new TextEncoder().encode(rl.schemaUrl))] : []),
      ]),
    );
  }));
  return { request, scopeFields };
}

/** `logs` with every scope's schema URL set as `oddlyOrdered` writes it. */
function withScopeSchema(logs: Logs): Logs {
  return {
    resourceLogs: logs.resourceLogs.map((rl) => ({
      ...rl,
      scopeLogs: rl.scopeLogs.map((sl) => ({ ...sl, schemaUrl: SCOPE_SCHEMA })),
    })),
  };
}

const REQUESTS = [sampleLogs(2000), randomLogs(11, { maxResources: 3 }), sampleLogs(3000)];

Deno.test("pass-through gateway: request bytes go to the backend as they came, in one batch", async () => {
  const sink = await startOtlpSink();
  const g = await gateway(sink.url, {});
  try {
    const requests = REQUESTS.map((logs) => oddlyOrdered(logs).request);
    const total = REQUESTS.reduce((n, l) => n + count(l), 0);
    assert.deepEqual(
      await sendAll(g.url, g.grpcAddress, requests),
      [200, 200, grpc.status.OK],
    );
    await sink.waitFor(total);
    assert.equal(sink.requests.length, 1);
    const sent = sink.requests[0]!;
    assert.equal(sent.headers["content-encoding"], "gzip");
    // The batch is the three requests' bytes in the order the batch got them.
    const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    const order = orders.find((o) => sameBytes(sent.body, concatBytes(o.map((i) => requests[i]!))));
    assert.ok(order, "the body is the requests' bytes joined");
    assert.deepEqual(sent.logs, {
      resourceLogs: order.flatMap((i) => withScopeSchema(REQUESTS[i]!).resourceLogs),
    });
  } finally {
    await g.collector.shutdown();
    await sink.stop();
  }
});

Deno.test("pass-through gateway with k8sattributes: only the resources are re-encoded, the records go on as their bytes", async () => {
  const sink = await startOtlpSink();
  // passthrough: no API server needed; it adds k8s.pod.ip from the connection.
  const g = await gateway(sink.url, { k8sattributes: { passthrough: true } });
  try {
    const sent = REQUESTS.map(oddlyOrdered);
    await sendAll(g.url, g.grpcAddress, sent.map((s) => s.request));
    const total = REQUESTS.reduce((n, l) => n + count(l), 0);
    await sink.waitFor(total);
    const body = concatBytes(sink.requests.map((r) => r.body));
    // Every scope's bytes arrive as sent, in the order only the sender wrote.
    const text = latin1(body);
    for (const field of sent.flatMap((s) => s.scopeFields)) {
      assert.ok(text.includes(latin1(field)), "a scope_logs field arrived re-encoded");
    }
    const resources = sink.requests.flatMap((r) => r.logs!.resourceLogs);
    assert.equal(resources.length, REQUESTS.reduce((n, l) => n + l.resourceLogs.length, 0));
    for (const rl of resources) {
      const ip = getAttribute(rl.resource.attributes, "k8s.pod.ip");
      assert.ok(ip?.kind === "string" && ip.value === "127.0.0.1");
    }
  } finally {
    await g.collector.shutdown();
    await sink.stop();
  }
});

Deno.test("pass-through gateway: a processor that changes data gets objects, and its change arrives", async () => {
  const sink = await startOtlpSink();
  const g = await gateway(sink.url, {
    attributes: { actions: [{ key: "gateway", value: "g-1", action: "insert" }] },
  });
  try {
    const requests = REQUESTS.map((logs) => encodeLogsRequest(logs));
    await sendAll(g.url, g.grpcAddress, requests);
    const total = REQUESTS.reduce((n, l) => n + count(l), 0);
    await sink.waitFor(total);
    const records = sink.requests.flatMap((r) =>
      r.logs!.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords))
    );
    assert.equal(records.length, total);
    for (const r of records) {
      const v = getAttribute(r.attributes, "gateway");
      assert.ok(v?.kind === "string" && v.value === "g-1");
    }
  } finally {
    await g.collector.shutdown();
    await sink.stop();
  }
});

function count(logs: Logs): number {
  return logs.resourceLogs.flatMap((rl) => rl.scopeLogs).reduce(
    (n, sl) => n + sl.logRecords.length,
    0,
  );
}

/** Bytes as a string of char codes 0–255, for substring search. */
function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, i + 8192));
  }
  return s;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
