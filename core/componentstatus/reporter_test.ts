import assert from "node:assert/strict";
import { ComponentId } from "../component.ts";
import { type InstanceId, type Status, statusEvent, statusName } from "./mod.ts";
import { StatusReporter } from "./reporter.ts";

function setup() {
  const seen: Status[] = [];
  const invalid: string[] = [];
  const reporter = new StatusReporter((_, ev) => seen.push(ev.status), (m) => invalid.push(m));
  const id: InstanceId = {
    kind: "exporter",
    id: new ComponentId("otlp_http"),
    pipelines: ["logs"],
  };
  const report = (s: Status) => reporter.report(id, statusEvent(s));
  return { seen, invalid, reporter, id, report };
}

Deno.test("status: the lifecycle starting → ok → recoverable → ok → stopping → stopped passes", () => {
  const { seen, invalid, report } = setup();
  for (
    const s of [
      "starting",
      "ok",
      "recoverable_error",
      "recoverable_error",
      "ok",
      "stopping",
      "stopped",
    ] as const
  ) {
    assert.equal(report(s), true, s);
  }
  assert.deepEqual(seen, [
    "starting",
    "ok",
    "recoverable_error",
    "recoverable_error",
    "ok",
    "stopping",
    "stopped",
  ]);
  assert.deepEqual(invalid, []);
});

Deno.test("status: permanent_error cannot go back to ok, fatal_error and stopped are final", () => {
  const { seen, invalid, report } = setup();
  assert.equal(report("ok"), false, "nothing before starting");
  report("starting");
  report("permanent_error");
  assert.equal(report("ok"), false);
  assert.equal(report("permanent_error"), false, "a repeated permanent error is no new event");
  assert.equal(report("stopping"), true);
  assert.equal(report("fatal_error"), true);
  assert.equal(report("stopped"), false);
  assert.deepEqual(seen, ["starting", "permanent_error", "stopping", "fatal_error"]);
  assert.equal(invalid.length, 4);
  assert.match(
    invalid[1]!,
    /"otlp_http" exporter: cannot transition from StatusPermanentError to StatusOK/,
  );
});

Deno.test("status: reportOkIfStarting keeps what the component reported during its start", () => {
  const { seen, reporter, id, report } = setup();
  report("starting");
  reporter.reportOkIfStarting(id);
  assert.equal(reporter.status(id), "ok");
  const other = setup();
  other.report("starting");
  other.report("recoverable_error");
  other.reporter.reportOkIfStarting(other.id);
  assert.equal(other.reporter.status(other.id), "recoverable_error");
  assert.deepEqual(seen, ["starting", "ok"]);
});

Deno.test("status: names as upstream writes them in messages", () => {
  assert.equal(statusName("ok"), "StatusOK");
  assert.equal(statusName("recoverable_error"), "StatusRecoverableError");
  assert.equal(statusName("none"), "StatusNone");
});
