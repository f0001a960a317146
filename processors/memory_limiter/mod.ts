/**
 * The `memory_limiter` processor: refuses data while memory in use is above its soft limit
 * and forces collections, with back-off, above it.
 *
 * @module
 */

import type { ProcessorFactory } from "../../core/component.ts";
import { type MemoryLimiterConfig, parseMemoryLimiterConfig } from "./config.ts";
import { type LimiterDeps, MemoryLimiter } from "./limiter.ts";
import { findForcedGc, residentMemory, totalMemory } from "./memory.ts";
import { MemoryLimiterProcessor } from "./processor.ts";

export type { MemoryLimiterConfig } from "./config.ts";

/**
 * Builds a factory; `deps` replaces what the limiter reads and does (tests). Like upstream's
 * factory it keeps one limiter per processor config, so a processor id used by several
 * pipelines runs one check loop and forces one collection, not one per pipeline.
 */
export function newMemoryLimiterFactory(
  deps: Partial<LimiterDeps> = {},
): ProcessorFactory<MemoryLimiterConfig> {
  const limiters = new WeakMap<MemoryLimiterConfig, MemoryLimiter>();
  return {
    kind: "processor",
    type: "memory_limiter",
    stability: "beta",
    description: "Refuses data (retryably) while memory in use is above the soft limit",
    parseConfig: parseMemoryLimiterConfig,
    create(settings, config, next) {
      let limiter = limiters.get(config);
      if (limiter === undefined) {
        limiter = new MemoryLimiter(config, settings.logger, {
          memoryInUse: deps.memoryInUse ?? residentMemory,
          gc: "gc" in deps ? deps.gc : findForcedGc(),
          totalMemory: deps.totalMemory ?? (() => totalMemory()),
          now: deps.now ?? (() => performance.now()),
        });
        limiters.set(config, limiter);
      }
      return new MemoryLimiterProcessor(settings, limiter, next);
    },
  };
}

/** Factory of the `memory_limiter` processor. */
export const memoryLimiterFactory: ProcessorFactory<MemoryLimiterConfig> =
  newMemoryLimiterFactory();
