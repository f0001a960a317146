/**
 * Config of the `attributes` processor, as upstream's `attributesprocessor.Config`: `actions`
 * on each log record's attributes, limited by optional `include`/`exclude` match blocks.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import { type Action, readActions } from "../../pkg/attraction/config.ts";
import { readMatcher } from "../../pkg/filter/config.ts";
import { type RecordMatcher, skipMatcher } from "../../pkg/filter/match.ts";

/** The processor's typed config. */
export interface AttributesConfig {
  actions: Action[];
  /** From `include`/`exclude`: true for a record the actions must not touch. */
  skip: RecordMatcher | undefined;
}

/** Reads the processor's section and validates it as upstream does. */
export function parseAttributesConfig(r: ConfigReader): AttributesConfig {
  const actions = readActions(r, "actions");
  const include = readMatcher(r.section("include"), "generic", false);
  const exclude = readMatcher(r.section("exclude"), "generic", false);
  return { actions, skip: skipMatcher(include, exclude) };
}
