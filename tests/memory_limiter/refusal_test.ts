import assert from "node:assert/strict";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues } from "../../core/config/reader.ts";
import { Registry } from "../../core/registry.ts";
import { Collector } from "../../core/service/collector.ts";
import { parseCollectorConfig } from "../../core/service/config.ts";
import { newMemoryLimiterFactory } from "../../processors/memory_limiter/mod.ts";
import { filelogFactory } from "../../receivers/filelog/mod.ts";
import { bodies, CAPTURED, captureFactory } from "../fakes/components.ts";

const MIB = 1024 * 1024;

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

Deno.test("memory_limiter in a collector: filelog's records are refused (and counted) while memory is high, then delivered once", async () => {
  const dir = await Deno.makeTempDir();
  const key = `memory-limiter-${crypto.randomUUID()}`;
  let inUse = 150 * MIB;
  let checks = 0;
  const factory = newMemoryLimiterFactory({
    memoryInUse: () => (checks++, inUse),
    gc: undefined,
  });
  const issues = new ConfigIssues();
  const config = parseCollectorConfig(
    fromPlain({
      receivers: {
        filelog: {
          include: [`${dir}/*.log`],
          start_at: "beginning",
          retry_on_failure: { enabled: true, initial_interval: "5ms", max_interval: "5ms" },
        },
      },
      processors: { memory_limiter: { check_interval: "5ms", limit_mib: 100 } },
      exporters: { capture: { key } },
      service: {
        pipelines: {
          logs: { receivers: ["filelog"], processors: ["memory_limiter"], exporters: ["capture"] },
        },
      },
    }),
    new Registry([filelogFactory, factory, captureFactory]),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  const collector = new Collector(config, { logSink: () => {} });
  const m = collector.metrics;
  const receiverRefused = () =>
    m.value("otelcol_receiver_refused_log_records", { receiver: "filelog", transport: "" }) ?? 0;
  const limiterRefused = () =>
    m.value("otelcol_processor_memory_limiter_refused_log_records", {
      processor: "memory_limiter",
    }) ?? 0;
  const captured = () => (CAPTURED.get(key) ?? []).flatMap(bodies);
  await collector.start();
  try {
    await until("the first memory check", () => checks > 0);
    const lines = ["one", "two", "three", "four", "five"];
    await Deno.writeTextFile(`${dir}/app.log`, lines.join("\n") + "\n");
    await until("two refusals", () => receiverRefused() >= 10);
    assert.deepEqual(captured(), []);
    assert.equal(receiverRefused() % 5, 0, "each attempt refuses the whole batch of 5");
    assert.equal(limiterRefused() % 5, 0);
    assert.ok(limiterRefused() >= 10);

    inUse = 10 * MIB;
    await until("delivery after memory fell", () => captured().length >= 5);
    assert.deepEqual(captured(), lines);
    assert.equal(
      m.value("otelcol_receiver_accepted_log_records", { receiver: "filelog", transport: "" }),
      5,
    );
    assert.equal(
      m.value("otelcol_processor_memory_limiter_accepted_log_records", {
        processor: "memory_limiter",
      }),
      5,
    );
  } finally {
    await collector.shutdown();
    CAPTURED.delete(key);
    await Deno.remove(dir, { recursive: true });
  }
});
