/**
 * Child process for emfile_test.ts, run under a low `ulimit -n`: holds a write handle per
 * file in argv[0] (so appending needs no new descriptor), polls once with `start_at: end`,
 * appends a line to every file, polls three more times and prints what it received and
 * logged as JSON.
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
const count = Number(Deno.args[1]);
const writers: Deno.FsFile[] = [];
for (let i = 0; i < count; i++) {
  writers.push(Deno.openSync(`${dir}/f${i}.log`, { append: true }));
}
const logs: string[] = [];
const bodies: string[] = [];
const cfg = parseFilelogConfig(
  new ConfigReader(
    fromPlain({ include: [`${dir}/*.log`], start_at: "end", poll_interval: "1h" }),
    "filelog",
    new ConfigIssues(),
  ),
);
const r = new FilelogReceiver(
  {
    id: new ComponentId("filelog"),
    kind: "receiver",
    logger: createLogger({ encoding: "json", sink: (l) => logs.push(l) }),
    metrics: new MetricsRegistry(),
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
            bodies.push(String(rec.body?.kind === "string" ? rec.body.value : ""));
          }
        }
      }
      return Promise.resolve();
    },
  },
);
await r.start({ getExtension: () => undefined, reportFatalError: () => {} });
await r.pollOnce();
const enc = new TextEncoder();
writers.forEach((w, i) => w.writeSync(enc.encode(`new ${i}\n`)));
for (let i = 0; i < 3; i++) await r.pollOnce();
await r.shutdown();
for (const w of writers) w.close();
console.log(JSON.stringify({ bodies, logs: logs.map((l) => JSON.parse(l)) }));
