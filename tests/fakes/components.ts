/**
 * Test components: a generator receiver, a capturing exporter (optionally slow, optionally
 * writing to a file), a mutating processor and a extension that fails to start. Registered
 * by tests and by `test_main.ts` for subprocess tests.
 *
 * @module
 */

import type {
  ExporterFactory,
  ExtensionFactory,
  ProcessorFactory,
  ReceiverFactory,
} from "../../core/component.ts";
import type { ConsumeContext } from "../../core/consumer.ts";
import {
  type Logs,
  newLogRecord,
  newResource,
  newScope,
  setAttribute,
  stringValue,
} from "../../core/pdata/logs.ts";
import { ObsReport } from "../../core/receiverhelper/mod.ts";

/** Builds a batch of `n` records with bodies `${prefix}-${start + i}`. */
export function makeLogs(prefix: string, start: number, n: number): Logs {
  const logRecords = Array.from({ length: n }, (_, i) =>
    newLogRecord({
      body: stringValue(`${prefix}-${start + i}`),
      timeUnixNano: 1_700_000_000_000_000_000n + BigInt(start + i),
    }));
  return {
    resourceLogs: [{
      resource: newResource([{ key: "source", value: stringValue(prefix) }]),
      schemaUrl: "",
      scopeLogs: [{ scope: newScope("test"), schemaUrl: "", logRecords }],
    }],
  };
}

/** Bodies of every record in `logs`, in order. */
export function bodies(logs: Logs): string[] {
  return logs.resourceLogs.flatMap((rl) =>
    rl.scopeLogs.flatMap((sl) =>
      sl.logRecords.map((r) => (r.body?.kind === "string" ? r.body.value : ""))
    )
  );
}

/** Config of the `testgen` receiver. */
export interface TestgenConfig {
  prefix: string;
  batches: number;
  batchSize: number;
  /** When set, every acknowledged body is appended (one per line) to this file. */
  ackFile: string | undefined;
}

/**
 * Emits `batches` batches, awaiting each consume (backpressure). With `batches: 0` it runs
 * until shutdown; otherwise shutdown waits until every batch was handed on.
 */
export const testgenFactory: ReceiverFactory<TestgenConfig> = {
  kind: "receiver",
  type: "testgen",
  stability: "development",
  description: "Test receiver generating numbered records",
  parseConfig: (r) => ({
    prefix: r.string("prefix", "rec"),
    batches: r.int("batches", 1, { min: 0 }),
    batchSize: r.int("batch_size", 10, { min: 1 }),
    ackFile: r.optionalString("ack_file"),
  }),
  create(settings, config, pipeline) {
    const next = new ObsReport(settings, "").wrap(pipeline);
    let stopping = false;
    let loop: Promise<void> | undefined;
    return {
      start() {
        loop = (async () => {
          const ack = config.ackFile
            ? await Deno.open(config.ackFile, { create: true, append: true })
            : undefined;
          try {
            const more = (b: number) => config.batches === 0 ? !stopping : b < config.batches;
            for (let b = 0; more(b); b++) {
              const logs = makeLogs(config.prefix, b * config.batchSize, config.batchSize);
              const sent = bodies(logs);
              try {
                await next.consume(logs, {});
              } catch (err) {
                settings.logger.warn("testgen: consume failed", { error: err });
                continue;
              }
              // Acknowledged: from here on losing these records would be a bug.
              if (ack) await ack.write(new TextEncoder().encode(sent.join("\n") + "\n"));
              await new Promise((r) => setTimeout(r, 0));
            }
          } finally {
            ack?.close();
          }
        })();
        return Promise.resolve();
      },
      async shutdown() {
        stopping = true;
        await loop;
      },
    };
  },
};

/** Config of the `capture` exporter. */
export interface CaptureConfig {
  /** Milliseconds to wait per batch before accepting it. */
  delayMs: number;
  /** When set, every exported body is appended (one per line) to this file. */
  file: string | undefined;
  /** Key in {@linkcode CAPTURED} where batches are kept (in-process tests). */
  key: string;
}

/** Batches captured in-process, by the exporter's `key`. */
export const CAPTURED = new Map<string, Logs[]>();

/** Records what it receives; optionally slow. */
export const captureFactory: ExporterFactory<CaptureConfig> = {
  kind: "exporter",
  type: "capture",
  stability: "development",
  description: "Test exporter recording what it receives",
  parseConfig: (r) => ({
    delayMs: r.duration("delay", 0),
    file: r.optionalString("file"),
    key: r.string("key", ""),
  }),
  create(settings, config) {
    const key = config.key || settings.id.toString();
    let out: Deno.FsFile | undefined;
    return {
      mutatesData: false,
      async start() {
        if (config.file) out = await Deno.open(config.file, { create: true, append: true });
      },
      shutdown() {
        out?.close();
        out = undefined;
        return Promise.resolve();
      },
      async consume(logs: Logs, _ctx: ConsumeContext) {
        if (config.delayMs > 0) {
          // Subprocess tests wait for this line: from here a batch is in flight.
          settings.logger.info("capture: holding a batch", { delay_ms: config.delayMs });
          await new Promise((r) => setTimeout(r, config.delayMs));
        }
        if (!CAPTURED.has(key)) CAPTURED.set(key, []);
        CAPTURED.get(key)!.push(logs);
        if (out) await out.write(new TextEncoder().encode(bodies(logs).join("\n") + "\n"));
      },
    };
  },
};

/** Sets attribute `key` to `value` on every record: a processor that mutates data. */
export const tagFactory: ProcessorFactory<{ key: string; value: string }> = {
  kind: "processor",
  type: "tag",
  stability: "development",
  description: "Test processor that sets an attribute on every record",
  parseConfig: (r) => ({ key: r.string("key", "tag"), value: r.string("value", "x") }),
  create(_settings, config, next) {
    return {
      mutatesData: true,
      start: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
      consume(logs: Logs, ctx: ConsumeContext) {
        for (const rl of logs.resourceLogs) {
          for (const sl of rl.scopeLogs) {
            for (const r of sl.logRecords) {
              setAttribute(r.attributes, config.key, stringValue(config.value));
            }
          }
        }
        return next.consume(logs, ctx);
      },
    };
  },
};

/** An extension whose start fails when `fail: true` (to test start-failure handling). */
export const flakyExtensionFactory: ExtensionFactory<{ fail: boolean }> = {
  kind: "extension",
  type: "flaky",
  aliases: ["flaky_old"],
  stability: "development",
  description: "Test extension that can fail to start",
  parseConfig: (r) => ({ fail: r.bool("fail", false) }),
  create(_settings, config) {
    return {
      start: () => config.fail ? Promise.reject(new Error("disk on fire")) : Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  },
};

/** Every test factory. */
export const TEST_FACTORIES = [testgenFactory, captureFactory, tagFactory, flakyExtensionFactory];
