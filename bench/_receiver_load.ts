/**
 * Shared pieces of the otlp receiver benches (`otlp_receiver_bench.ts`, `otlp_grpc_bench.ts`):
 * the real receiver on a loopback port with a consumer that drops everything, a process's CPU
 * time, a child's first output line and the median of the rounds.
 *
 * @module
 */

import { ComponentId, type CreateSettings } from "../core/component.ts";
import { fromPlain } from "../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../core/config/reader.ts";
import { consumerFunc } from "../core/consumer.ts";
import { nopLogger } from "../core/telemetry/logger.ts";
import { MetricsRegistry } from "../core/telemetry/metrics.ts";
import { otlpFactory } from "../receivers/otlp/mod.ts";
import type { OtlpReceiver } from "../receivers/otlp/receiver.ts";

/**
 * Starts the real otlp receiver with these `protocols` settings and a null consumer. The
 * consumer says it changes data unless `changesNothing`, so requests are decoded as for any
 * pipeline with a processor; with `changesNothing` the receiver hands the bytes on instead (a
 * pass-through pipeline).
 */
export async function startNullReceiver(
  protocols: Record<string, unknown>,
  changesNothing = false,
): Promise<OtlpReceiver> {
  const r = new ConfigReader(fromPlain({ protocols }), "receivers::otlp", new ConfigIssues());
  const settings: CreateSettings = {
    id: new ComponentId("otlp"),
    kind: "receiver",
    logger: nopLogger(),
    metrics: new MetricsRegistry(),
    componentLabels: { receiver: "otlp" },
    buildInfo: { command: "bench", description: "bench", version: "0" },
  };
  const receiver = otlpFactory.create(
    settings,
    otlpFactory.parseConfig(r),
    consumerFunc(() => Promise.resolve(), !changesNothing),
  ) as OtlpReceiver;
  await receiver.start({ getExtension: () => undefined, reportFatalError: () => {} });
  return receiver;
}

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ ticks
}

/** The first line of `stream` (the rest stays unread). */
export async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n")[0]!;
}

/** The median of `xs` (the upper one for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
