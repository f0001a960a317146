/**
 * The receiver alone in its own process for the hostile-input tests: `protocols::http` on a
 * free loopback port in front of a consumer that drops what it gets. Prints
 * `{"url": …, "stats": …}` once listening; `GET <stats>` answers the peak RSS sampled every
 * 10 ms and the records received, so the test can see the process is alive and its memory.
 *
 * @module
 */

import { logRecordCount } from "../../core/pdata/logs.ts";
import { startReceiver } from "./_test_helpers.ts";

let records = 0;
let peakRss = 0;
const sample = () => peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
setInterval(sample, 10);
// Nothing is kept: the memory measured is the receiver's own.
const t = await startReceiver(
  {},
  (logs) => {
    records += logRecordCount(logs);
    return Promise.resolve();
  },
  {},
  false,
);
const stats = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
  sample();
  return Response.json({ peakRss, rss: Deno.memoryUsage().rss, records });
});
console.log(JSON.stringify({ url: t.url, stats: `http://127.0.0.1:${stats.addr.port}/` }));
