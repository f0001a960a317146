/**
 * The subset of upstream's OpenTelemetry Transformation Language that conditions in real
 * log configs use (filter processor `logs::log_record`, routing connector `condition`).
 * Compile each condition once with {@linkcode compileCondition}; evaluate it per record with
 * one reused {@linkcode EvalContext}.
 *
 * @module
 */

export { compileCondition, type Condition } from "./compile.ts";
export { OttlSyntaxError } from "./lexer.ts";
export {
  type ConditionContext,
  type EvalContext,
  type OttlContextName,
  supportedPaths,
} from "./paths.ts";
export { compileConditionGroup, type CompiledGroup, CONDITION_CONTEXTS } from "./infer.ts";
export { CONVERTER_NAMES } from "./functions.ts";
export { OttlEvalError, type Value } from "./values.ts";
export { type ConfiguredCondition, ERROR_MODES, type ErrorMode, readConditions } from "./config.ts";
