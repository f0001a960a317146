/**
 * The order of pipelines joined by connectors. A connector listed under a pipeline's
 * `exporters` feeds every pipeline that lists it under `receivers`, so pipelines form a
 * directed graph; it must have no cycle, and the graph is built and started from its
 * downstream end.
 *
 * @module
 */

/** What the ordering needs of a pipeline. */
export interface PipelineLinks {
  readonly id: string;
  readonly receivers: readonly string[];
  readonly exporters: readonly string[];
}

/** The result: pipelines downstream-first, or the first cycle found. */
export type PipelineOrder =
  | { readonly order: readonly string[]; readonly cycle?: undefined }
  | { readonly order?: undefined; readonly cycle: readonly string[] };

/**
 * Sorts `pipelines` so that every pipeline comes after all the pipelines its connectors feed.
 * When they form a cycle, returns it as `[pipeline, connector, pipeline, connector, …,
 * first pipeline]`.
 */
export function orderPipelines(
  pipelines: readonly PipelineLinks[],
  isConnector: (id: string) => boolean,
): PipelineOrder {
  const fedBy = new Map<string, string[]>(); // connector id → pipelines it feeds
  for (const p of pipelines) {
    for (const r of p.receivers.filter(isConnector)) fedBy.set(r, [...fedBy.get(r) ?? [], p.id]);
  }
  const byId = new Map(pipelines.map((p) => [p.id, p]));
  const done = new Set<string>();
  const order: string[] = [];
  /** The path being explored: pipeline ids and the connectors between them. */
  const path: string[] = [];

  const visit = (id: string): readonly string[] | undefined => {
    if (done.has(id)) return undefined;
    const onPath = path.indexOf(id);
    if (onPath >= 0) return [...path.slice(onPath), id];
    path.push(id);
    for (const connector of byId.get(id)!.exporters.filter(isConnector)) {
      path.push(connector);
      for (const next of fedBy.get(connector) ?? []) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
      path.pop();
    }
    path.pop();
    done.add(id);
    order.push(id);
    return undefined;
  };

  for (const p of pipelines) {
    const cycle = visit(p.id);
    if (cycle) return { cycle };
  }
  return { order };
}
