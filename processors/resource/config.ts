/**
 * Config of the `resource` processor, as upstream's `resourceprocessor.Config`: the same
 * actions as the attributes processor, under `attributes`, on resource attributes.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import { type Action, readActions } from "../../pkg/attraction/config.ts";

/** The processor's typed config. */
export interface ResourceConfig {
  attributes: Action[];
}

/** Reads the processor's section and validates it as upstream does. */
export function parseResourceConfig(r: ConfigReader): ResourceConfig {
  return { attributes: readActions(r, "attributes") };
}
