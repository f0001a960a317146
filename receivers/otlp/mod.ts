/**
 * The `otlp` receiver: accepts logs over OTLP/HTTP (protobuf or JSON) and OTLP/gRPC as
 * upstream's otlpreceiver does, with the confighttp and configgrpc server settings.
 *
 * @module
 */

import type { ReceiverFactory } from "../../core/component.ts";
import { type OtlpReceiverConfig, parseOtlpReceiverConfig } from "./config.ts";
import { OtlpReceiver } from "./receiver.ts";

export type { OtlpReceiverConfig } from "./config.ts";
export { OtlpReceiver } from "./receiver.ts";

/** Factory of the `otlp` receiver. */
export const otlpFactory: ReceiverFactory<OtlpReceiverConfig> = {
  kind: "receiver",
  type: "otlp",
  stability: "beta",
  description: "Receives logs over OTLP/HTTP (protobuf or JSON) and OTLP/gRPC",
  parseConfig: parseOtlpReceiverConfig,
  create: (settings, config, next) => new OtlpReceiver(settings, config, next),
};
