/**
 * Child process for eacces_test.ts: runs a filelog receiver over argv[0] for three polls and
 * prints what it received and logged as JSON. Run with --deny-read on one file.
 *
 * @module
 */

import { createLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { FilelogReceiver } from "../../receivers/filelog/receiver.ts";
import { mustParse, plainHost, settings, Sink } from "../../receivers/filelog/test_helpers.ts";

const dir = Deno.args[0]!;
const logs: string[] = [];
const metrics = new MetricsRegistry();
const sink = new Sink();
const r = new FilelogReceiver(
  { ...settings(metrics), logger: createLogger({ encoding: "json", sink: (l) => logs.push(l) }) },
  mustParse({ include: [`${dir}/*.log`], start_at: "beginning", poll_interval: "1h" }),
  sink,
);
await r.start(plainHost);
for (let i = 0; i < 3; i++) await r.pollOnce();
await r.shutdown();
console.log(JSON.stringify({
  bodies: sink.bodies(),
  logs: logs.map((l) => JSON.parse(l)),
  unreadable: metrics.value("otelcol_filelog_unreadable_files", { receiver: "filelog" }) ?? 0,
}));
