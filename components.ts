/**
 * The built-in components: adding one is a folder plus one line here. Also the embedded
 * default config that runs when no `--config` is given.
 *
 * @module
 */

import type { Factory } from "./core/component.ts";
import { forwardFactory } from "./connectors/forward/mod.ts";
import { routingFactory } from "./connectors/routing/mod.ts";
import { debugFactory } from "./exporters/debug/mod.ts";
import { bearerTokenAuthFactory } from "./extensions/bearertokenauth/mod.ts";
import { fileStorageFactory } from "./extensions/file_storage/mod.ts";
import { headersSetterFactory } from "./extensions/headers_setter/mod.ts";
import { healthCheckFactory } from "./extensions/health_check/mod.ts";
import { otlpHttpFactory } from "./exporters/otlphttp/mod.ts";
import { attributesFactory } from "./processors/attributes/mod.ts";
import { batchFactory } from "./processors/batch/mod.ts";
import { filterFactory } from "./processors/filter/mod.ts";
import { k8sAttributesFactory } from "./processors/k8sattributes/mod.ts";
import { memoryLimiterFactory } from "./processors/memory_limiter/mod.ts";
import { resourceFactory } from "./processors/resource/mod.ts";
import { filelogFactory } from "./receivers/filelog/mod.ts";
import { otlpFactory } from "./receivers/otlp/mod.ts";

/** Every factory compiled into otelcol-deno. */
export const BUILTIN_FACTORIES: readonly Factory[] = [
  batchFactory,
  filterFactory,
  attributesFactory,
  resourceFactory,
  k8sAttributesFactory,
  memoryLimiterFactory,
  debugFactory,
  otlpHttpFactory,
  bearerTokenAuthFactory,
  fileStorageFactory,
  headersSetterFactory,
  healthCheckFactory,
  filelogFactory,
  otlpFactory,
  forwardFactory,
  routingFactory,
];

/**
 * The demo pipeline run without `--config`: tails the example pod logs shipped in
 * `examples/var/log/pods` (paths relative to the working directory) and prints each record.
 */
export const DEFAULT_CONFIG_YAML = `
receivers:
  filelog:
    include: ["\${env:OTELCOL_DEMO_LOGS:-./examples/var/log/pods/*/*/*.log}"]
    start_at: beginning
    include_file_path: true
    operators:
      - type: container
exporters:
  debug:
    verbosity: normal
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [filelog]
      exporters: [debug]
`;
