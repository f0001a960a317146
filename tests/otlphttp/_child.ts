/**
 * The process that `sigkill_test.ts` kills: an otlp_http exporter with a persistent queue in
 * a real file_storage extension, fed with numbered records.
 *
 *   deno run -A --no-lock tests/otlphttp/_child.ts '<json options>'
 *
 * Options: `url` (sink base URL), `dir` (storage directory), `start` (first record id),
 * `count` (records to produce; 0 = only drain what earlier runs left), `delayMs` (pause
 * between requests). It prints one line per
 * event: `ready`, `producing <first> <last>` before each `consume`, `acked <first> <last>`
 * once it resolved (the records are on disk), and `drained` when the queue is empty after
 * producing.
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
import { logsWithIds, range } from "../../core/exporterhelper/_test_logs.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { fileStorageFactory } from "../../extensions/file_storage/mod.ts";
import { otlpHttpFactory } from "../../exporters/otlphttp/mod.ts";

const opts = JSON.parse(Deno.args[0]!) as {
  url: string;
  dir: string;
  start: number;
  count: number;
  delayMs?: number;
};
const enc = new TextEncoder();

function out(line: string): void {
  const bytes = enc.encode(line + "\n");
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

function read<C>(factory: { parseConfig(r: ConfigReader): C }, plain: unknown): C {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "x", issues);
  const cfg = factory.parseConfig(r);
  r.done();
  if (issues.errors.length > 0) throw new Error(JSON.stringify(issues.errors));
  return cfg;
}

const metrics = new MetricsRegistry();
function settings(id: string, kind: CreateSettings["kind"]): CreateSettings {
  return {
    id: ComponentId.parse(id),
    kind,
    logger: createLogger({ level: "warn", sink: (l) => console.error(l) }),
    metrics,
    componentLabels: { [kind]: id },
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
}

const storage = fileStorageFactory.create(
  settings("file_storage", "extension"),
  read(fileStorageFactory, { directory: opts.dir }),
);
const extensions: Record<string, Extension> = { file_storage: storage };
const host: Host = {
  getExtension: (id) => extensions[id],
  reportFatalError: (e) => console.error(e),
};
await storage.start(host);
const exporter = otlpHttpFactory.create(
  settings("otlp_http", "exporter"),
  read(otlpHttpFactory, {
    endpoint: opts.url,
    timeout: "2s",
    retry_on_failure: { initial_interval: "10ms", max_interval: "50ms", max_elapsed_time: 0 },
    sending_queue: { storage: "file_storage", num_consumers: 4, queue_size: 100000 },
  }),
);
await exporter.start(host);
out("ready");

const per = 20;
for (let first = opts.start; first < opts.start + opts.count; first += per) {
  const ids = range(first, Math.min(first + per, opts.start + opts.count));
  out(`producing ${ids[0]} ${ids.at(-1)}`);
  await exporter.consume(logsWithIds(ids), {});
  out(`acked ${ids[0]} ${ids.at(-1)}`);
  if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
}
const labels = { exporter: "otlp_http", data_type: "logs" };
let lastLog = Date.now();
while ((metrics.value("otelcol_exporter_queue_size", labels) ?? 0) > 0) {
  await new Promise((r) => setTimeout(r, 20));
  if (Deno.env.get("CHILD_DEBUG") && Date.now() - lastLog > 1000) {
    lastLog = Date.now();
    console.error(
      "queue",
      metrics.value("otelcol_exporter_queue_size", labels),
      "sent",
      metrics.value("otelcol_exporter_sent_log_records", { exporter: "otlp_http" }),
    );
  }
}
out("drained");
await exporter.shutdown();
await storage.shutdown();
