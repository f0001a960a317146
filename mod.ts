/**
 * otelcol-deno: an OpenTelemetry Collector-compatible logs pipeline.
 *
 * As a library: start a collector from config text or files with {@linkcode Collector},
 * build components against the types in `core/`. As a program (`deno run mod.ts` or the
 * compiled `otelcol-deno` binary): see `--help`.
 *
 * @example
 * ```ts ignore
 * import { BUILTIN_FACTORIES, Collector } from "./mod.ts";
 * const collector = await Collector.fromSources({ uris: ["config.yaml"] }, BUILTIN_FACTORIES);
 * await collector.start();
 * ```
 *
 * @module
 */

import { BUILTIN_FACTORIES, DEFAULT_CONFIG_YAML } from "./components.ts";
import { runCli } from "./core/cli.ts";
import { startLoopDelayProbe } from "./core/telemetry/loop_delay.ts";

export { BUILTIN_FACTORIES, DEFAULT_CONFIG_YAML } from "./components.ts";
export { describeComponents, EXIT, parseArgs, runCli } from "./core/cli.ts";
export * from "./core/component.ts";
export * from "./core/consumer.ts";
export { ConfigError, type ConfigIssue, ConfigReader, formatIssue } from "./core/config/reader.ts";
export { BUILD_INFO, Collector, loadCollectorConfig } from "./core/service/collector.ts";
export * from "./core/pdata/logs.ts";
export * from "./core/storage.ts";

if (import.meta.main) {
  // A benchmark aid (bench/agent_e2e_bench.ts): the event loop's delay, written to this file.
  // Asked only where env access is granted: the deployment profiles' allow-lists omit it.
  const probeVar = { name: "env", variable: "OTELCOL_DENO_LOOP_DELAY_FILE" } as const;
  const loopDelayFile = Deno.permissions.querySync(probeVar).state === "granted"
    ? Deno.env.get(probeVar.variable)
    : undefined;
  if (loopDelayFile) startLoopDelayProbe(loopDelayFile);
  Deno.exit(
    await runCli(Deno.args, { factories: BUILTIN_FACTORIES, defaultConfig: DEFAULT_CONFIG_YAML }),
  );
}
