/**
 * The `permissions` command, the start-time permission check and the privilege posture line.
 *
 * @module
 */

import { denoEnv } from "../config/expand.ts";
import type { Logger } from "../telemetry/logger.ts";
import { formatMissing, missingPermissions } from "./check.ts";
import { formatFlags, type NeedsResult, type NeedsSources, permissionNeeds } from "./needs.ts";
import { describePosture, readPosture } from "./posture.ts";

export { formatFlags, minimize, type Need, permissionNeeds } from "./needs.ts";

/** Config sources as the CLI has them. */
export interface CliSources {
  readonly uris: readonly string[];
  readonly sets?: readonly string[];
}

function sourcesOf(s: CliSources): NeedsSources {
  return { uris: s.uris, sets: s.sets, env: denoEnv };
}

/**
 * The `permissions` command's output: the flags on stdout (one per line), why each value is
 * there and what could not be determined on stderr.
 */
export async function permissionsReport(
  sources: CliSources,
): Promise<{ stdout: string; stderr: string; result: NeedsResult }> {
  const result = await permissionNeeds(sourcesOf(sources));
  const flags = formatFlags(result.needs);
  const why = result.needs.map((n) => `# --allow-${n.kind}=${n.value}  <- ${n.key}`);
  const problems = result.problems.map((p) => `Warning: ${p}`);
  return {
    stdout: flags.join("\n") + "\n",
    stderr: [...why, ...problems].join("\n") + "\n",
    result,
  };
}

/** One line per permission the config needs and this process lacks (empty when all there). */
export async function checkPermissions(sources: CliSources): Promise<string[]> {
  const { needs } = await permissionNeeds(sourcesOf(sources));
  return formatMissing(missingPermissions(needs));
}

/** Logs the privilege posture once, with a warning for privileges the collector does not need. */
export function logPosture(logger: Logger): void {
  const { fields, warnings } = describePosture(readPosture());
  logger.info("Privilege posture", fields);
  for (const w of warnings) logger.warn(w);
}
