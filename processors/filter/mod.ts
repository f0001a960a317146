/**
 * The `filter` processor: drops log records that match OTTL conditions or the older
 * include/exclude match blocks.
 *
 * @module
 */

import type { ProcessorFactory } from "../../core/component.ts";
import { type FilterConfig, parseFilterConfig } from "./config.ts";
import { FilterProcessor } from "./filter_processor.ts";

export type { FilterConfig } from "./config.ts";

/** Factory of the `filter` processor (upstream's contrib type; logs are alpha there). */
export const filterFactory: ProcessorFactory<FilterConfig> = {
  kind: "processor",
  type: "filter",
  stability: "alpha",
  description:
    "Drops log records matching OTTL conditions (logs::log_record) or include/exclude blocks",
  parseConfig: parseFilterConfig,
  create: (settings, config, next) => new FilterProcessor(settings, config, next),
};
