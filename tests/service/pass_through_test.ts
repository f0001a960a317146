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

/**
 * `logs` encoded with each resource (and schema URL) after its scopes: valid protobuf that our encoder never
 * writes (it puts the resource first), so bytes that arrive in this order were handed on.
 */
function resourceLast(logs: Logs): Uint8Array {
  const framed = (tag: number, body: Uint8Array) => {
    const len: number[] = [];
    let n = body.length;
    for (; n >= 0x80; n >>>= 7) len.push((n & 0x7f) | 0x80);
    len.push(n);
    return concatBytes([new Uint8Array([tag, ...len]), body]);
  };
  const msg = toGenerated(logs);
  return concatBytes(msg.resourceLogs.map((rl) =>
    framed(
      0x0a,
      concatBytes([
        ...rl.scopeLogs.map((sl) => framed(0x12, toBinary(ScopeLogsSchema, sl))),
        framed(0x0a, toBinary(ResourceSchema, rl.resource!)),
        ...(rl.schemaUrl ? [framed(0x1a, new TextEncoder().encode(rl.schemaUrl))] : []),
      ]),
    )
  ));
}

const REQUESTS = [sampleLogs(2000), randomLogs(11, { maxResources: 3 }), sampleLogs(3000)];

Deno.test("pass-through gateway: request bytes go to the backend as they came, in one batch", async () => {
  const sink = await startOtlpSink();
  const g = await gateway(sink.url, {});
  try {
    const requests = REQUESTS.map(resourceLast);
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
      resourceLogs: order.flatMap((i) => REQUESTS[i]!.resourceLogs),
    });
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
