/**
 * Config of the `debug` exporter, as upstream's: `verbosity`, `sampling_initial`,
 * `sampling_thereafter`, `use_internal_logger`.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";

/** How much the exporter prints per batch. */
export type Verbosity = "basic" | "normal" | "detailed";

/** Typed config of the debug exporter. */
export interface DebugConfig {
  /** @default "basic" */
  readonly verbosity: Verbosity;
  /** Messages printed each second before sampling starts. @default 2 */
  readonly samplingInitial: number;
  /** After the initial ones, print every Nth message of that second. @default 1 */
  readonly samplingThereafter: number;
  /** Print through the collector's own logger (stderr) rather than plain stdout. @default true */
  readonly useInternalLogger: boolean;
}

/** Reads the `debug` exporter's section onto its defaults. */
export function parseDebugConfig(r: ConfigReader): DebugConfig {
  const config: DebugConfig = {
    verbosity: r.enum("verbosity", ["basic", "normal", "detailed"] as const, "basic"),
    samplingInitial: r.int("sampling_initial", 2, { min: 0 }),
    samplingThereafter: r.int("sampling_thereafter", 1, { min: 0 }),
    useInternalLogger: r.bool("use_internal_logger", true),
  };
  if (r.has("output")) {
    r.error("output", 'The "output" attribute filters are not supported yet: remove the key');
  }
  return config;
}
