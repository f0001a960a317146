/**
 * The `k8sattributes` processor (alias `k8s_attributes`): adds the metadata of each
 * resource's Kubernetes pod to it.
 *
 * @module
 */

import type { ProcessorFactory } from "../../core/component.ts";
import { type K8sAttributesConfig, parseK8sAttributesConfig } from "./config.ts";
import { K8sAttributesProcessor } from "./processor.ts";

export type { K8sAttributesConfig } from "./config.ts";

/** Factory of the `k8sattributes` processor. */
export const k8sAttributesFactory: ProcessorFactory<K8sAttributesConfig> = {
  kind: "processor",
  type: "k8sattributes",
  aliases: ["k8s_attributes"],
  stability: "beta",
  description: "Adds the metadata of each resource's Kubernetes pod (namespace, workload, labels)",
  parseConfig: parseK8sAttributesConfig,
  create: (settings, config, next) => new K8sAttributesProcessor(settings, config, next),
};
