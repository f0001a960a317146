/**
 * Shared setup of the k8sattributes tests: a parsed config, a processor wired to a fake API
 * server, a capturing next consumer and helpers to build and read resources.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ComponentId, type CreateSettings, type Host } from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import type { ConsumeContext } from "../../core/consumer.ts";
import {
  type AnyValue,
  type KeyValue,
  type Logs,
  newLogRecord,
  newResource,
  newScope,
  stringValue,
} from "../../core/pdata/logs.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import type { FakeKubeApi } from "../../tests/fakes/kube_api.ts";
import type { K8sAttributesConfig } from "./config.ts";
import { k8sAttributesFactory } from "./mod.ts";
import { K8sAttributesProcessor } from "./processor.ts";

/** Parses a plain config; returns it with the issues as `path: message` lines. */
export function parse(plain: unknown): { cfg: K8sAttributesConfig; errors: string[] } {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "processors::k8sattributes", issues);
  const cfg = k8sAttributesFactory.parseConfig(r);
  r.done();
  return { cfg, errors: issues.errors.map((i) => `${i.path}: ${i.message}`) };
}

/** A host with no extensions. */
export const HOST: Host = { getExtension: () => undefined, reportFatalError: () => {} };

/** A processor under test, its metrics, what reached the next consumer, and its log lines. */
export interface Harness {
  proc: K8sAttributesProcessor;
  metrics: MetricsRegistry;
  out: Logs[];
  logLines: string[];
}

/** Builds (not starts) a processor for `plain` against `api`. */
export function harness(api: FakeKubeApi | undefined, plain: unknown = {}): Harness {
  const { cfg, errors } = parse(plain);
  assert.deepEqual(errors, []);
  const metrics = new MetricsRegistry();
  const logLines: string[] = [];
  const settings: CreateSettings = {
    id: new ComponentId("k8sattributes"),
    kind: "processor",
    logger: createLogger({ level: "debug", sink: (l) => logLines.push(l) }),
    metrics,
    componentLabels: { processor: "k8sattributes" },
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
  const out: Logs[] = [];
  const next = {
    mutatesData: false,
    consume: (logs: Logs, _ctx: ConsumeContext) => {
      out.push(logs);
      return Promise.resolve();
    },
  };
  const proc = new K8sAttributesProcessor(settings, cfg, next, {
    clientConfig: api === undefined
      ? undefined
      : { server: api.url, insecureSkipTlsVerify: false, describe: "the test's fake API" },
    backoff: { initialMs: 5, maxMs: 20 },
    client: { idleTimeoutMs: 2000 },
  });
  return { proc, metrics, out, logLines };
}

/** A batch of one resource with `attrs` (strings) and one record. */
export function logsWith(attrs: Record<string, string>): Logs {
  const attributes: KeyValue[] = Object.entries(attrs).map(([key, v]) => ({
    key,
    value: stringValue(v),
  }));
  return {
    resourceLogs: [{
      resource: newResource(attributes),
      schemaUrl: "",
      scopeLogs: [{
        scope: newScope("t"),
        schemaUrl: "",
        logRecords: [newLogRecord({ body: stringValue("line") })],
      }],
    }],
  };
}

function plainValue(v: AnyValue): unknown {
  switch (v.kind) {
    case "int":
      return Number(v.value);
    case "array":
      return v.value.map(plainValue);
    case "empty":
      return null;
    case "kvlist":
      return Object.fromEntries(v.value.map((kv) => [kv.key, plainValue(kv.value)]));
    default:
      return v.value;
  }
}

/** The first resource's attributes as a plain object. */
export function attrsOf(logs: Logs, i = 0): Record<string, unknown> {
  const attrs = logs.resourceLogs[i]!.resource.attributes;
  return Object.fromEntries(attrs.map((kv) => [kv.key, plainValue(kv.value)]));
}

/** Runs one batch through the processor and returns the first resource's attributes. */
export async function enrich(
  h: Harness,
  attrs: Record<string, string>,
  addr?: string,
): Promise<Record<string, unknown>> {
  const logs = logsWith(attrs);
  await h.proc.consume(logs, addr === undefined ? {} : { client: { addr } });
  return attrsOf(logs);
}

/** Waits (polling the event loop, no wall-clock assertion) until `cond` holds. */
export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}
