/**
 * The `debug` exporter: prints what reaches it, with upstream's per-second sampling.
 *
 * @module
 */

import type { CreateSettings, Exporter } from "../../core/component.ts";
import type { ConsumeContext } from "../../core/consumer.ts";
import { logRecordCount, type Logs } from "../../core/pdata/logs.ts";
import { createLogger, type Logger } from "../../core/telemetry/logger.ts";
import type { DebugConfig } from "./config.ts";
import { detailedText, normalText } from "./text.ts";

/** Upstream's zap sampler: the first `initial` messages of each second, then every `thereafter`th. */
export class Sampler {
  #initial: number;
  #thereafter: number;
  #second = -1;
  #count = 0;

  /** Builds a sampler; `now` returns milliseconds (injectable for tests). */
  constructor(initial: number, thereafter: number, private readonly now: () => number = Date.now) {
    this.#initial = initial;
    this.#thereafter = thereafter;
  }

  /** True when the next message should be printed. */
  allow(): boolean {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#count = 0;
    }
    this.#count++;
    if (this.#count <= this.#initial) return true;
    return this.#thereafter > 0 && (this.#count - this.#initial) % this.#thereafter === 0;
  }
}

/** Creates a debug exporter. */
export function createDebugExporter(settings: CreateSettings, config: DebugConfig): Exporter {
  const out: Logger = config.useInternalLogger
    ? settings.logger
    : createLogger({ sink: (line) => console.log(line) });
  const sampler = new Sampler(config.samplingInitial, config.samplingThereafter);
  const sent = settings.metrics.counter(
    "otelcol_exporter_sent_log_records",
    "Number of log records successfully sent to destination.",
  );
  const failed = settings.metrics.counter(
    "otelcol_exporter_send_failed_log_records",
    "Number of log records in failed attempts to send to destination.",
  );
  sent.add(0, settings.componentLabels);
  failed.add(0, settings.componentLabels);

  return {
    mutatesData: false,
    start: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    consume(logs: Logs, _ctx: ConsumeContext): Promise<void> {
      const records = logRecordCount(logs);
      if (sampler.allow()) {
        out.info("Logs", { "resource logs": logs.resourceLogs.length, "log records": records });
        if (config.verbosity !== "basic" && records > 0) {
          const text = config.verbosity === "normal" ? normalText(logs) : detailedText(logs);
          out.info(text.replace(/\n$/, ""));
        }
      }
      sent.add(records, settings.componentLabels);
      return Promise.resolve();
    },
  };
}
