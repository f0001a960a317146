/**
 * Config of the `filter` processor (logs), as upstream's `filterprocessor.Config`:
 * `error_mode`, then either the newer top-level `log_conditions` (paths named by context,
 * see `log_conditions.ts`) or, under `logs`, OTTL conditions (`log_record`) or the older
 * `include`/`exclude` match blocks; never two of these at once.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import { readMatcher } from "../../pkg/filter/config.ts";
import { skipMatcher } from "../../pkg/filter/match.ts";
import type { RecordMatcher } from "../../pkg/filter/match.ts";
import {
  type ConfiguredCondition,
  ERROR_MODES,
  type ErrorMode,
  readConditions,
} from "../../pkg/ottl/config.ts";
import { type ConditionGroup, readLogConditions } from "./log_conditions.ts";

export type { ConditionGroup } from "./log_conditions.ts";

/** The processor's typed config. */
export interface FilterConfig {
  /** What an error evaluating a condition does. @default "propagate" */
  errorMode: ErrorMode;
  /** `logs::log_record`: a record is dropped when any condition is true. */
  logRecord: ConfiguredCondition[];
  /** `log_conditions`: groups run in order, each dropping what any of its conditions matches. */
  logConditions: ConditionGroup[];
  /** From `logs::include`/`exclude`: true for a record to drop. */
  skip: RecordMatcher | undefined;
}

/** Signals other than logs: accepted (configs are shared with upstream) but unused here. */
const OTHER_SIGNALS = ["metrics", "traces", "spans", "profiles"];

/** Reads the processor's section and validates it as upstream does. */
export function parseFilterConfig(r: ConfigReader): FilterConfig {
  const errorMode = r.enum("error_mode", ERROR_MODES, "propagate");
  for (const key of OTHER_SIGNALS) {
    if (r.has(key)) r.warn(key, `Ignored: this collector handles logs only`);
  }
  const logs = r.section("logs");
  const hasConditions = logs.raw("log_record") !== undefined;
  const hasBlocks = logs.raw("include") !== undefined || logs.raw("exclude") !== undefined;
  if (r.raw("log_conditions") !== undefined && (hasConditions || hasBlocks)) {
    // Upstream checks this first and reports only it.
    r.error(
      "log_conditions",
      'cannot use context inferred log conditions "log_conditions" and the settings "logs.resource", "logs.log", "logs.include", "logs.exclude" at the same time: move the logs conditions into log_conditions (paths prefixed with log., resource., scope.) or remove log_conditions',
    );
  } else if (hasConditions && hasBlocks) {
    logs.error(
      undefined,
      "Cannot use ottl conditions (log_record) and include/exclude for logs at the same time: pick one",
    );
  }
  const logRecord = readConditions(logs, "log_record", "log");
  const include = readMatcher(logs.section("include"), "filter_logs", true);
  const exclude = readMatcher(logs.section("exclude"), "filter_logs", true);
  const logConditions = readLogConditions(r, errorMode);
  return { errorMode, logRecord, logConditions, skip: skipMatcher(include, exclude) };
}
