/**
 * Child process for eacces_test.ts: runs a filelog receiver over argv[0] for three polls and
 * prints what it received and logged as JSON. Run with --deny-read on one file.
 *
 * @module
 */

import { ComponentId } from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { parseFilelogConfig } from "../../receivers/filelog/config.ts";
import { FilelogReceiver } from "../../receivers/filelog/receiver.ts";

const dir = Deno.args[0]!;
const logs: string[] = [];
const bodies: string[] = [];
const metrics = new MetricsRegistry();
const cfg = parseFilelogConfig(
  new ConfigReader(
    fromPlain({ include: [`${dir}/*.log`], start_at: "beginning", poll_interval: "1h" }),
    "filelog",
    new ConfigIssues(),
  ),
);
const r = new FilelogReceiver(
  {
    id: new ComponentId("filelog"),
    kind: "receiver",
    logger: createLogger({ encoding: "json", sink: (l) => logs.push(l) }),
    metrics,
    componentLabels: { receiver: "filelog" },
    buildInfo: { command: "t", description: "t", version: "0" },
  },
  cfg,
  {
    mutatesData: false,
    consume: (l) => {
      for (const rl of l.resourceLogs) {
        for (const sl of rl.scopeLogs) {
          for (const rec of sl.logRecords) {
            bodies.push(
              String(rec.body?.kind === "string" ? rec.body.value : ""),
            );
          }
        }
      }
      return Promise.resolve();
    },
  },
);
await r.start({ getExtension: () => undefined, reportFatalError: () => {} });
for (let i = 0; i < 3; i++) await r.pollOnce();
await r.shutdown();
console.log(JSON.stringify({
  bodies,
  logs: logs.map((l) => JSON.parse(l)),
  unreadable: metrics.value("otelcol_filelog_unreadable_files", { receiver: "filelog" }) ?? 0,
}));
