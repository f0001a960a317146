/**
 * Helpers for the end-to-end tests: waiting on the sink, the final exactly-once check.
 *
 * @module
 */

import type { SinkStats } from "../../demo/sink.ts";
import type { Topology } from "../../demo/topology.ts";

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the sink until `pred` holds; throws with the last stats after `timeoutMs`. */
export async function until(
  t: Topology,
  pred: (s: SinkStats) => boolean,
  timeoutMs: number,
  what: string,
): Promise<SinkStats> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await t.stats();
    if (pred(s)) return s;
    if (Date.now() > end) {
      throw new Error(
        `timed out waiting for ${what}: ${
          JSON.stringify({ ...s, duplicateFirstSeen: undefined })
        }\n` +
          `agent log:\n${t.agent?.log.slice(-3000)}\ngateway log:\n${t.gateway?.log.slice(-3000)}`,
      );
    }
    await sleep(200);
  }
}

/** Stops the generator and waits (at most `timeoutMs`) until every written line arrived. */
export async function drainAll(
  t: Topology,
  timeoutMs: number,
): Promise<{ written: number; records: number[]; lines: number; stats: SinkStats }> {
  await t.command("stop");
  const status = await t.written();
  const written = status.records.reduce((a, b) => a + b, 0);
  // On a timeout the caller's check names what is missing.
  const stats = await until(t, (s) => s.unique >= written, timeoutMs, `${written} lines`)
    .catch(async (err) => {
      console.error(String(err).slice(0, 8000));
      return await t.stats();
    });
  return { written, records: status.records, lines: status.lines, stats };
}
