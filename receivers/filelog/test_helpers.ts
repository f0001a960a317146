/**
 * Test helpers: settings, hosts, an in-memory StorageClient, a collecting consumer, config
 * parsing from plain objects (operator pipelines: pkg/stanza/testing.ts).
 *
 * @module
 */

import {
  ComponentId,
  type CreateSettings,
  type Extension,
  type Host,
} from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import type { ConsumeContext, LogsConsumer } from "../../core/consumer.ts";
import type { AnyValue, LogRecord, Logs } from "../../core/pdata/logs.ts";
import type { StorageClient, StorageExtension, StorageOperation } from "../../core/storage.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { type FilelogConfig, parseFilelogConfig } from "./config.ts";
import { FilelogReceiver, type ReceiverOptions } from "./receiver.ts";

/** Parses a config from a plain object; returns the config and the error messages. */
export function parse(plain: Record<string, unknown>): { cfg: FilelogConfig; errors: string[] } {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "receivers::filelog", issues);
  const cfg = parseFilelogConfig(r);
  r.done();
  return { cfg, errors: issues.errors.map((i) => `${i.path}: ${i.message}`) };
}

/** Parses a config that must be valid. */
export function mustParse(plain: Record<string, unknown>): FilelogConfig {
  const { cfg, errors } = parse(plain);
  if (errors.length > 0) throw new Error(`config errors: ${errors.join("; ")}`);
  return cfg;
}

/** Settings for a receiver under test. */
export function settings(metrics = new MetricsRegistry()): CreateSettings {
  return {
    id: new ComponentId("filelog"),
    kind: "receiver",
    logger: nopLogger(),
    metrics,
    componentLabels: { receiver: "filelog" },
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
}

/** A StorageClient over a Map (shared across restarts by sharing the map). */
export class MemoryStorage implements StorageClient {
  readonly data: Map<string, Uint8Array>;
  closed = false;
  constructor(data = new Map<string, Uint8Array>()) {
    this.data = data;
  }
  get(key: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.data.get(key));
  }
  set(key: string, value: Uint8Array): Promise<void> {
    this.data.set(key, value.slice());
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.data.delete(key);
    return Promise.resolve();
  }
  async batch(ops: StorageOperation[]): Promise<void> {
    for (const op of ops) {
      if (op.type === "get") op.value = await this.get(op.key);
      else if (op.type === "set") await this.set(op.key, op.value);
      else await this.delete(op.key);
    }
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** A host offering one in-memory storage extension under `id`. */
export function hostWithStorage(data: Map<string, Uint8Array>, id = "file_storage"): Host {
  const ext: StorageExtension = {
    start: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    getClient: () => Promise.resolve(new MemoryStorage(data)),
  };
  return {
    getExtension: (name: string): Extension | undefined => name === id ? ext : undefined,
    reportFatalError: (e: Error) => {
      throw e;
    },
  };
}

/** A host without extensions. */
export const plainHost: Host = {
  getExtension: () => undefined,
  reportFatalError: (e: Error) => {
    throw e;
  },
};

/** A consumer that keeps every record, optionally failing some calls first. */
export class Sink implements LogsConsumer {
  readonly mutatesData = false;
  readonly batches: Logs[] = [];
  /** Calls to reject (before accepting), each with this error. */
  failNext: Error[] = [];
  calls = 0;
  /** Optional gate: consume waits for it. */
  gate: Promise<void> | undefined;
  consume(logs: Logs, _ctx: ConsumeContext): Promise<void> {
    this.calls++;
    const err = this.failNext.shift();
    if (err !== undefined) return Promise.reject(err);
    const accept = (): void => {
      this.batches.push(logs);
    };
    if (this.gate) return this.gate.then(accept);
    accept();
    return Promise.resolve();
  }
  /** Every record in arrival order, with its resource attributes. */
  records(): Array<{ record: LogRecord; resource: Record<string, string> }> {
    const out: Array<{ record: LogRecord; resource: Record<string, string> }> = [];
    for (const l of this.batches) {
      for (const rl of l.resourceLogs) {
        const resource: Record<string, string> = {};
        for (const kv of rl.resource.attributes) resource[kv.key] = String(plain(kv.value));
        for (const sl of rl.scopeLogs) {
          for (const record of sl.logRecords) out.push({ record, resource });
        }
      }
    }
    return out;
  }
  /** The bodies as strings. */
  bodies(): string[] {
    return this.records().map((r) => String(plain(r.record.body)));
  }
}

/** Converts an AnyValue to a plain value for assertions. */
export function plain(v: AnyValue | undefined): unknown {
  if (v === undefined) return undefined;
  switch (v.kind) {
    case "empty":
      return null;
    case "array":
      return v.value.map(plain);
    case "kvlist":
      return Object.fromEntries(v.value.map((kv) => [kv.key, plain(kv.value)]));
    case "int":
      return v.value;
    default:
      return v.value;
  }
}

/** A record's attributes as a plain object. */
export function attrs(r: LogRecord): Record<string, unknown> {
  return Object.fromEntries(r.attributes.map((kv) => [kv.key, plain(kv.value)]));
}

/** Makes a fresh temporary directory. */
export async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "filelog_test_" });
}

/** Builds a receiver from a plain config. */
export function receiver(
  plainCfg: Record<string, unknown>,
  sink: LogsConsumer,
  metrics?: MetricsRegistry,
  options: ReceiverOptions = {},
): FilelogReceiver {
  return new FilelogReceiver(settings(metrics), mustParse(plainCfg), sink, {
    shutdownGraceMs: 200,
    ...options,
  });
}

/** Waits until `check` returns true (checked every 10ms), failing after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean,
  timeoutMs = 5000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Polls a started receiver `n` times (the background loop also polls; pollOnce is serialised by tests). */
export async function polls(r: FilelogReceiver, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await r.pollOnce();
}
