import assert from "node:assert/strict";
import { EncodedLogs } from "../../core/pdata/encoded_logs.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { newLogRecord, newResource, newScope, stringValue } from "../../core/pdata/logs.ts";
import { capture, parseWith } from "../../tests/fakes/component_harness.ts";
import { parseResourceConfig } from "./config.ts";
import { ResourceProcessor } from "./resource_processor.ts";

Deno.test("resource: actions run on every resource's attributes, from_context included", async () => {
  const { config, issues } = parseWith(parseResourceConfig, {
    attributes: [
      { key: "deployment.environment", value: "prod", action: "upsert" },
      { key: "tenant", from_context: "metadata.x-tenant", action: "insert" },
      { key: "host.ip", action: "delete" },
    ],
  }, "processors::resource");
  assert.deepEqual(issues, []);
  const logs: Logs = {
    resourceLogs: [1, 2].map((n) => ({
      schemaUrl: "",
      resource: newResource([{ key: "host.ip", value: stringValue(`10.0.0.${n}`) }]),
      scopeLogs: [{ schemaUrl: "", scope: newScope(), logRecords: [newLogRecord()] }],
    })),
  };
  const ctx = { client: { metadata: new Map([["x-tenant", ["team-a"]]]) } };
  const encoded = new EncodedLogs([encodeLogsRequest(logs)], 2);
  const next = capture();
  const processor = new ResourceProcessor(config, next);
  await processor.consume(logs, ctx);
  // A batch held encoded gets the same resources and keeps its records' bytes.
  await processor.consume(encoded, ctx);
  assert.ok(encoded.pieces !== undefined, "still encoded");
  assert.deepEqual(next.batches[1]!.resourceLogs, next.batches[0]!.resourceLogs);
  for (const rl of next.batches[0]!.resourceLogs) {
    assert.deepEqual(rl.resource.attributes, [
      { key: "deployment.environment", value: stringValue("prod") },
      { key: "tenant", value: stringValue("team-a") },
    ]);
  }
});

Deno.test("resource: an empty attributes list is an error, as upstream", () => {
  const { issues } = parseWith(parseResourceConfig, { attributes: [] }, "processors::resource");
  assert.match(issues[0]!.message, /Missing required field "attributes"/);
  assert.equal(issues[0]!.path, "processors::resource::attributes");
});
