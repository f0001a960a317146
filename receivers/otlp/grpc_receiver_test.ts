/** The `otlp` receiver with `protocols::grpc`, built by its factory as the collector does. */

import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import type { Host } from "../../core/component.ts";
import { EncodedLogs } from "../../core/pdata/encoded_logs.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { sampleLogs } from "../../core/pdata/testing.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { RECEIVER_METRICS } from "../../core/receiverhelper/mod.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { RawClient, testSettings } from "./_grpc_test_helpers.ts";
import { parseReceiverConfig } from "./_test_helpers.ts";
import { otlpFactory, OtlpReceiver } from "./mod.ts";

const host: Host = { getExtension: () => undefined, reportFatalError: () => {} };

Deno.test("otlp receiver: protocols::grpc and ::http together, counted per transport", async () => {
  const config = parseReceiverConfig({
    protocols: { grpc: { endpoint: "127.0.0.1:0" }, http: { endpoint: "127.0.0.1:0" } },
  });
  const received: Logs[] = [];
  const metrics = new MetricsRegistry();
  const receiver = new OtlpReceiver(testSettings([], metrics), config, {
    mutatesData: false,
    consume: (logs) => {
      received.push(logs);
      return Promise.resolve();
    },
  });
  await receiver.start(host);
  const port = receiver.grpcPort;
  const client = new RawClient(`127.0.0.1:${port}`);
  try {
    assert.equal((await client.export(encodeLogsRequest(sampleLogs(3)))).code, grpc.status.OK);
    const res = await fetch(`http://${receiver.httpAddress}/v1/logs`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: new Uint8Array(encodeLogsRequest(sampleLogs(2))),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    // The pipeline changes nothing: both protocols hand on the request bytes themselves.
    assert.ok(received.every((logs) => logs instanceof EncodedLogs));
    const asObjects = received.map((logs) => ({ resourceLogs: logs.resourceLogs }));
    assert.deepEqual(asObjects, [sampleLogs(3), sampleLogs(2)]);
    const accepted = (transport: string) =>
      metrics.value(RECEIVER_METRICS.accepted, { receiver: "otlp", transport });
    assert.equal(accepted("grpc"), 3);
    assert.equal(accepted("http"), 2);
  } finally {
    client.close();
    await receiver.shutdown();
  }
  // Stopped: the port no longer answers.
  assert.equal(receiver.grpcPort, undefined);
  const after = new RawClient(`127.0.0.1:${port}`);
  assert.equal((await after.export(new Uint8Array(0))).code, grpc.status.UNAVAILABLE);
  after.close();
});

Deno.test("otlp receiver: when HTTP cannot start, the started gRPC server is stopped too", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const grpcPort = freePort();
  const config = parseReceiverConfig({
    protocols: {
      grpc: { endpoint: `127.0.0.1:${grpcPort}` },
      http: { endpoint: `127.0.0.1:${taken.addr.port}` },
    },
  });
  const consumer = { mutatesData: false, consume: () => Promise.resolve() };
  try {
    const receiver = otlpFactory.create(testSettings([]), config, consumer);
    await assert.rejects(receiver.start(host));
    // The gRPC port is free again: a second receiver can take it.
    const again = otlpFactory.create(
      testSettings([]),
      parseReceiverConfig({ protocols: { grpc: { endpoint: `127.0.0.1:${grpcPort}` } } }),
      consumer,
    );
    await again.start(host);
    await again.shutdown();
  } finally {
    taken.close();
  }
});

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

Deno.test("otlp receiver: protocols::grpc alone is enough; an empty grpc key takes the defaults", () => {
  const config = parseReceiverConfig({ protocols: { grpc: null } });
  assert.equal(config.http, undefined);
  assert.equal(config.grpc?.endpoint, "localhost:4317");
});
