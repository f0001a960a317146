import assert from "node:assert/strict";
import type { ExtensionFactory, Factory, Host } from "../component.ts";
import {
  type InstanceId,
  type PipelineWatcher,
  reportStatus,
  type StatusEvent,
  type StatusWatcher,
} from "../componentstatus/mod.ts";
import { fromPlain } from "../config/node.ts";
import { ConfigIssues } from "../config/reader.ts";
import { Registry } from "../registry.ts";
import {
  captureFactory,
  flakyExtensionFactory,
  testgenFactory,
} from "../../tests/fakes/components.ts";
import { Collector } from "./collector.ts";
import { parseCollectorConfig } from "./config.ts";

/** Every status event and pipeline notification, in order, as one line each. */
const EVENTS: string[] = [];
let watcherHost: Host | undefined;

const watcherFactory: ExtensionFactory<{ start: string }> = {
  kind: "extension",
  type: "watcher",
  stability: "development",
  description: "Records status events",
  parseConfig: (r) => ({ start: r.string("start", "ok") }),
  create(_settings, config): StatusWatcher & PipelineWatcher & {
    start(host: Host): Promise<void>;
    shutdown(): Promise<void>;
  } {
    return {
      start(host) {
        watcherHost = host;
        if (config.start === "recoverable") {
          reportStatus(host, "recoverable_error", new Error("backend down"));
        }
        return Promise.resolve();
      },
      shutdown: () => Promise.resolve(),
      componentStatusChanged(source: InstanceId, event: StatusEvent) {
        const err = event.error ? ` (${event.error.message})` : "";
        EVENTS.push(`${source.kind}:${source.id}[${source.pipelines}] ${event.status}${err}`);
      },
      ready: () => void EVENTS.push("ready"),
      notReady: () => void EVENTS.push("not ready"),
    };
  },
};

function collector(extensions: Record<string, unknown>): Collector {
  const issues = new ConfigIssues();
  const factories: Factory[] = [
    testgenFactory,
    captureFactory,
    flakyExtensionFactory,
    watcherFactory,
  ];
  const config = parseCollectorConfig(
    fromPlain({
      extensions,
      receivers: { testgen: { batches: 1 } },
      exporters: { capture: {} },
      service: {
        extensions: Object.keys(extensions),
        telemetry: { metrics: { level: "none" } },
        pipelines: {
          logs: { receivers: ["testgen"], exporters: ["capture"] },
          "logs/2": { receivers: ["testgen"], exporters: ["capture"] },
        },
      },
    }),
    new Registry(factories),
    issues,
  );
  assert.deepEqual(issues.errors, []);
  return new Collector(config, { logSink: () => {} });
}

Deno.test("status: the graph reports starting/ok and stopping/stopped for every component; watchers learn ready and not ready", async () => {
  EVENTS.length = 0;
  const c = collector({ watcher: {} });
  await c.start();
  assert.equal(EVENTS.at(-1), "ready");
  await c.shutdown();
  assert.deepEqual(EVENTS, [
    "extension:watcher[] starting",
    "extension:watcher[] ok",
    "exporter:capture[logs,logs/2] starting",
    "exporter:capture[logs,logs/2] ok",
    "receiver:testgen[logs,logs/2] starting",
    "receiver:testgen[logs,logs/2] ok",
    "ready",
    "not ready",
    "receiver:testgen[logs,logs/2] stopping",
    "receiver:testgen[logs,logs/2] stopped",
    "exporter:capture[logs,logs/2] stopping",
    "exporter:capture[logs,logs/2] stopped",
    "extension:watcher[] stopping",
    "extension:watcher[] stopped",
  ]);
});

Deno.test("status: a status reported during start is kept instead of ok", async () => {
  EVENTS.length = 0;
  const c = collector({ watcher: { start: "recoverable" } });
  await c.start();
  await c.shutdown();
  assert.deepEqual(EVENTS.slice(0, 2), [
    "extension:watcher[] starting",
    "extension:watcher[] recoverable_error (backend down)",
  ]);
});

Deno.test("status: a failed start is a permanent error, and watchers are never told ready", async () => {
  EVENTS.length = 0;
  const c = collector({ watcher: {}, flaky: { fail: true } });
  await assert.rejects(c.start(), /Failed to start "flaky" extension: disk on fire/);
  assert.deepEqual(EVENTS, [
    "extension:watcher[] starting",
    "extension:watcher[] ok",
    "extension:flaky[] starting",
    'extension:flaky[] permanent_error (Failed to start "flaky" extension: disk on fire)',
    "not ready",
    "extension:watcher[] stopping",
    "extension:watcher[] stopped",
  ]);
});

Deno.test("status: a fatal error reported through the host reaches watchers and stops the collector", async () => {
  EVENTS.length = 0;
  const c = collector({ watcher: {} });
  await c.start();
  watcherHost!.reportFatalError(new Error("port taken"));
  assert.equal((await c.fatalError).message, "port taken");
  assert.ok(EVENTS.includes("extension:watcher[] fatal_error (port taken)"));
  // fatal_error is final: a later report is refused.
  reportStatus(watcherHost!, "ok");
  assert.equal(EVENTS.filter((e) => e.startsWith("extension:watcher[] ok")).length, 1);
  await c.shutdown();
});
