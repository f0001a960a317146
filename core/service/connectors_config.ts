/**
 * The config checks connectors add: a connector is used as an exporter of some pipelines and
 * as a receiver of others, every pipeline its config routes to lists it under `receivers`,
 * its id is not also a receiver's or an exporter's, and pipelines joined by connectors form
 * no cycle.
 *
 * @module
 */

import type { ConnectorFactory } from "../component.ts";
import type { ConfigIssues } from "../config/reader.ts";
import type { ComponentConfig, PipelineConfig } from "./config.ts";
import { orderPipelines } from "./pipeline_order.ts";

/** Ids declared in the sections a pipeline's lists can name. */
export interface DeclaredIds {
  readonly receiver: ReadonlySet<string>;
  readonly exporter: ReadonlySet<string>;
  readonly connector: ReadonlySet<string>;
}

/** Records every connector problem of `pipelines` in `issues`. */
export function checkConnectors(
  connectors: ReadonlyMap<string, ComponentConfig>,
  pipelines: readonly PipelineConfig[],
  declared: DeclaredIds,
  issues: ConfigIssues,
): void {
  for (const id of declared.connector) {
    for (const kind of ["receiver", "exporter"] as const) {
      if (declared[kind].has(id)) {
        issues.error(
          `connectors::${id}`,
          `Ambiguous id: both a ${kind} and a connector are called "${id}"; rename one of them`,
          connectors.get(id)?.pos,
        );
      }
    }
  }
  for (const [id, c] of connectors) {
    const exportedBy = pipelines.filter((p) => p.exporters.includes(id)).map((p) => p.id);
    const receivedBy = pipelines.filter((p) => p.receivers.includes(id)).map((p) => p.id);
    if (exportedBy.length === 0 && receivedBy.length === 0) {
      issues.warn(
        `connectors::${id}`,
        `Connector "${id}" is defined but not used in any pipeline`,
        c.pos,
      );
      continue;
    }
    if (receivedBy.length === 0) {
      issues.error(
        `connectors::${id}`,
        `Connector "${id}" is an exporter of ${
          list(exportedBy)
        } but no pipeline lists it under receivers, so what it gets would go nowhere`,
        c.pos,
      );
    }
    if (exportedBy.length === 0) {
      issues.error(
        `connectors::${id}`,
        `Connector "${id}" is a receiver of ${
          list(receivedBy)
        } but no pipeline lists it under exporters, so it would never get data`,
        c.pos,
      );
    }
    const factory = c.factory as ConnectorFactory;
    for (const ref of factory.pipelineReferences?.(c.config) ?? []) {
      const path = `connectors::${id}::${ref.key}`;
      if (!pipelines.some((p) => p.id === ref.pipeline)) {
        issues.error(
          path,
          `Pipeline "${ref.pipeline}" is not configured under service::pipelines`,
          ref.pos ?? c.pos,
        );
      } else if (!receivedBy.includes(ref.pipeline)) {
        issues.error(
          path,
          `Pipeline "${ref.pipeline}" does not list connector "${id}" under receivers; add it there`,
          ref.pos ?? c.pos,
        );
      }
    }
  }
  const { cycle } = orderPipelines(pipelines, (id) => declared.connector.has(id));
  if (cycle) {
    const steps = cycle.map((x, i) => (i % 2 === 1 ? `connector "${x}"` : x));
    issues.error(
      "service::pipelines",
      `The pipelines form a cycle through connectors: ${
        steps.join(" → ")
      }; data would loop forever`,
    );
  }
}

function list(ids: readonly string[]): string {
  return ids.map((id) => `"${id}"`).join(", ");
}
