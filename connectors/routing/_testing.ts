/**
 * Helpers for the routing connector's tests: build a connector from a plain config, capture
 * what each pipeline gets, and make batches of namespaced records.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { PipelineConsumers } from "../../core/component.ts";
import type { ConsumeContext, LogsConsumer } from "../../core/consumer.ts";
import {
  type KeyValue,
  type LogRecord,
  type Logs,
  newLogRecord,
  newResource,
  newScope,
  stringValue,
} from "../../core/pdata/logs.ts";
import type { FanoutOptions } from "../../core/service/fanout.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { parseWith, testSettings } from "../../tests/fakes/component_harness.ts";
import { parseRoutingConfig } from "./config.ts";
import { RoutingConnector } from "./router.ts";

/** A pipeline head that records every call. */
export interface Sink extends LogsConsumer {
  readonly calls: { logs: Logs; ctx: ConsumeContext }[];
  /** Answers the next calls with these results (an error rejects), then accepts. */
  readonly script: (Error | undefined)[];
}

/** A pipeline head recording what it gets; `mutatesData` as given. */
export function sink(mutatesData = false): Sink {
  const calls: { logs: Logs; ctx: ConsumeContext }[] = [];
  const script: (Error | undefined)[] = [];
  return {
    mutatesData,
    calls,
    script,
    consume(logs, ctx) {
      calls.push({ logs, ctx });
      const err = script.shift();
      return err ? Promise.reject(err) : Promise.resolve();
    },
  };
}

/** A connector built from `plain` (which must parse without errors) feeding `sinks`. */
export function connector(
  plain: unknown,
  sinks: Record<string, LogsConsumer>,
  fanoutOptions: FanoutOptions = {},
): { connector: RoutingConnector; logged: string[] } {
  const { config, issues } = parseWith(parseRoutingConfig, plain, "connectors::routing");
  assert.deepEqual(issues.filter((i) => i.severity === "error"), []);
  const logged: string[] = [];
  const settings = {
    ...testSettings("routing", "connector"),
    logger: createLogger({ level: "debug", sink: (l) => logged.push(l) }),
  };
  const next: PipelineConsumers = new Map(Object.entries(sinks));
  return { connector: new RoutingConnector(settings, config, next, fanoutOptions), logged };
}

/** A string attribute list. */
export function attrs(plain: Record<string, string>): KeyValue[] {
  return Object.entries(plain).map(([key, v]) => ({ key, value: stringValue(v) }));
}

/** A record with body `body` and string attributes. */
export function rec(body: string, attributes: Record<string, string> = {}): LogRecord {
  return newLogRecord({ body: stringValue(body), attributes: attrs(attributes) });
}

/** A batch: one resource per entry (its attributes), each with one scope of `records`. */
export function batch(...resources: [Record<string, string>, LogRecord[]][]): Logs {
  return {
    resourceLogs: resources.map(([resource, logRecords]) => ({
      resource: newResource(attrs(resource)),
      schemaUrl: "",
      scopeLogs: [{ scope: newScope("s"), schemaUrl: "", logRecords }],
    })),
  };
}

/** Bodies of every record a sink got, over all its calls, in order. */
export function bodiesOf(s: Sink): string[] {
  return s.calls.flatMap((c) => bodiesIn(c.logs));
}

/** Bodies of every record of `logs`, in order. */
export function bodiesIn(logs: Logs): string[] {
  return logs.resourceLogs.flatMap((rl) =>
    rl.scopeLogs.flatMap((sl) =>
      sl.logRecords.map((r) => (r.body?.kind === "string" ? r.body.value : "?"))
    )
  );
}
