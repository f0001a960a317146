import assert from "node:assert/strict";
import { ComponentId } from "../../core/component.ts";
import { type InstanceId, statusEvent } from "../../core/componentstatus/mod.ts";
import { HealthState } from "./health.ts";

const EXPORTER: InstanceId = {
  kind: "exporter",
  id: new ComponentId("debug"),
  pipelines: ["logs"],
};
const RECEIVER: InstanceId = { kind: "receiver", id: new ComponentId("otlp"), pipelines: ["logs"] };

Deno.test("health: healthy only between ready and not ready, while every component is ok", () => {
  const h = new HealthState();
  h.componentStatusChanged(EXPORTER, statusEvent("starting"));
  h.componentStatusChanged(EXPORTER, statusEvent("ok"));
  assert.equal(h.healthySince(), undefined, "not ready: receivers may not have started yet");
  h.componentStatusChanged(RECEIVER, statusEvent("starting"));
  h.componentStatusChanged(RECEIVER, statusEvent("ok"));
  h.ready(1234);
  assert.equal(h.healthySince(), 1234);
  h.componentStatusChanged(RECEIVER, statusEvent("recoverable_error", new Error("x")));
  assert.equal(h.healthySince(), undefined);
  h.componentStatusChanged(RECEIVER, statusEvent("ok"));
  assert.equal(h.healthySince(), 1234);
  h.notReady();
  assert.equal(h.healthySince(), undefined, "shutting down, even before any component stops");
});
