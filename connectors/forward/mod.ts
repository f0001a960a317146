/**
 * The `forward` connector: hands everything the pipelines exporting to it send on to every
 * pipeline that lists it under `receivers`, unchanged (upstream's core `forward` connector).
 * It has no settings. Use it to give several pipelines one shared tail, or one receiver's
 * data two differently processed paths.
 *
 * @module
 */

import type { Connector, ConnectorFactory } from "../../core/component.ts";
import { capabilitiesOf } from "../../core/consumer.ts";
import { fanout } from "../../core/service/fanout.ts";

/** Factory of the `forward` connector (upstream's core type, beta). */
export const forwardFactory: ConnectorFactory<Record<never, never>> = {
  kind: "connector",
  type: "forward",
  stability: "beta",
  description:
    "Passes data on unchanged from the pipelines exporting to it to those receiving from it",
  parseConfig: () => ({}),
  create: (_settings, _config, next): Connector => {
    // fanout copies only for pipelines that change data, and retries per pipeline. With one
    // pipeline it hands the batch on as is: then that pipeline's changes are the connector's.
    const out = fanout([...next.values()]);
    return {
      ...capabilitiesOf(out),
      consume: (logs, ctx) => out.consume(logs, ctx),
      start: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  },
};
