import assert from "node:assert/strict";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues } from "../../core/config/reader.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { Registry } from "../../core/registry.ts";
import { parseCollectorConfig } from "../../core/service/config.ts";
import { newMemoryLimiterFactory } from "../../processors/memory_limiter/mod.ts";
import { otlpFactory } from "../../receivers/otlp/mod.ts";
import { startWithOtlpAddress } from "../fakes/component_harness.ts";
import { bodies, CAPTURED, captureFactory, makeLogs } from "../fakes/components.ts";

const MIB = 1024 * 1024;

/** A collector otlp → memory_limiter (limit 100 MiB, checked every 5 ms) → capture. */
async function limitedCollector(key: string) {
  const memory = { inUse: 150 * MIB };
  const checked = { next: Promise.withResolvers<void>() };
  const factory = newMemoryLimiterFactory({
    memoryInUse: () => {
      checked.next.resolve();
      return memory.inUse;
    },
    gc: undefined,
  });
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } },
      processors: { memory_limiter: { check_interval: "5ms", limit_mib: 100 } },
      exporters: { capture: { key } },
      service: {
        pipelines: {
          logs: { receivers: ["otlp"], processors: ["memory_limiter"], exporters: ["capture"] },
        },
      },
    }),
    new Registry([otlpFactory, factory, captureFactory]),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  const { collector, address } = await startWithOtlpAddress(config);
  return {
    collector,
    memory,
    address,
    /** Resolves after the limiter's next check has read memory. */
    async nextCheck() {
      checked.next = Promise.withResolvers<void>();
      await checked.next.promise;
      await new Promise((r) => setTimeout(r, 0));
    },
  };
}

Deno.test("memory_limiter in a collector: the otlp receiver answers 503 with Retry-After while memory is high and 200 once it fell", async () => {
  const key = `memory-limiter-otlp-${crypto.randomUUID()}`;
  const { collector, memory, address, nextCheck } = await limitedCollector(key);
  try {
    const url = `http://${address}/v1/logs`;
    const post = () =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-protobuf" },
        body: new Uint8Array(encodeLogsRequest(makeLogs("m", 0, 3))),
      });
    await nextCheck();
    const refused = await post();
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "1", "check_interval, at least 1 s");
    await refused.body?.cancel();
    // Refused before its body was read: no records were seen, so none are counted.
    const m = collector.metrics;
    const labels = { receiver: "otlp", transport: "http" };
    assert.equal(m.value("otelcol_receiver_refused_log_records", labels), 0);
    assert.equal(CAPTURED.get(key), undefined);

    memory.inUse = 10 * MIB;
    await nextCheck();
    const accepted = await post();
    assert.equal(accepted.status, 200);
    await accepted.body?.cancel();
    assert.deepEqual((CAPTURED.get(key) ?? []).flatMap(bodies), ["m-0", "m-1", "m-2"]);
    assert.equal(m.value("otelcol_receiver_accepted_log_records", labels), 3);
    assert.equal(
      m.value("otelcol_processor_memory_limiter_accepted_log_records", {
        processor: "memory_limiter",
      }),
      3,
    );
  } finally {
    await collector.shutdown();
    CAPTURED.delete(key);
  }
});

Deno.test("memory_limiter in a collector: over its limit, the otlp receiver refuses a request before reading its body", async () => {
  const key = `memory-limiter-admission-${crypto.randomUUID()}`;
  const { collector, address, nextCheck } = await limitedCollector(key);
  try {
    await nextCheck();
    const [host, port] = [address.slice(0, address.lastIndexOf(":")), address.split(":").pop()];
    const conn = await Deno.connect({ hostname: host!, port: Number(port) });
    try {
      // Headers announce 50 MB, of which only 5 bytes are ever sent: an answer can only come
      // from a server that did not wait for (nor read) the body.
      const head = "POST /v1/logs HTTP/1.1\r\nHost: x\r\n" +
        "Content-Type: application/x-protobuf\r\nContent-Length: 50000000\r\n\r\nhello";
      await conn.write(new TextEncoder().encode(head));
      const buf = new Uint8Array(4096);
      let text = "";
      // A server waiting for the body would never answer: give up then (not a speed check).
      const guard = setTimeout(() => conn.close(), 10_000);
      try {
        while (!text.includes("\r\n\r\n")) {
          const n = await conn.read(buf);
          if (n === null) break;
          text += new TextDecoder().decode(buf.subarray(0, n));
        }
      } catch { /* closed by the guard */ }
      clearTimeout(guard);
      assert.match(text, /^HTTP\/1\.1 503/);
      assert.match(text, /retry-after: 1\r\n/i);
    } finally {
      try {
        conn.close();
      } catch { /* closed by the guard */ }
    }
    assert.equal(CAPTURED.get(key), undefined);
  } finally {
    await collector.shutdown();
    CAPTURED.delete(key);
  }
});
