/**
 * Child process for emfile_test.ts, run under a low `ulimit -n`: holds a write handle per
 * file in argv[0] (so appending needs no new descriptor), polls once with `start_at: end`,
 * appends a line to every file, polls three more times and prints what it received and
 * logged as JSON.
 *
 * @module
 */

import { createLogger } from "../../core/telemetry/logger.ts";
import { FilelogReceiver } from "../../receivers/filelog/receiver.ts";
import { mustParse, plainHost, settings, Sink } from "../../receivers/filelog/test_helpers.ts";

const dir = Deno.args[0]!;
const count = Number(Deno.args[1]);
const writers: Deno.FsFile[] = [];
for (let i = 0; i < count; i++) {
  writers.push(Deno.openSync(`${dir}/f${i}.log`, { append: true }));
}
const logs: string[] = [];
const sink = new Sink();
const r = new FilelogReceiver(
  { ...settings(), logger: createLogger({ encoding: "json", sink: (l) => logs.push(l) }) },
  mustParse({ include: [`${dir}/*.log`], start_at: "end", poll_interval: "1h" }),
  sink,
);
await r.start(plainHost);
await r.pollOnce();
const enc = new TextEncoder();
writers.forEach((w, i) => w.writeSync(enc.encode(`new ${i}\n`)));
for (let i = 0; i < 3; i++) await r.pollOnce();
await r.shutdown();
for (const w of writers) w.close();
console.log(JSON.stringify({ bodies: sink.bodies(), logs: logs.map((l) => JSON.parse(l)) }));
