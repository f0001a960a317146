import assert from "node:assert/strict";
import type { AnyValue, Logs } from "../../core/pdata/logs.ts";
import { newLogRecord, newResource, newScope, stringValue } from "../../core/pdata/logs.ts";
import { capture, parseWith } from "../../tests/fakes/component_harness.ts";
import { AttributesProcessor } from "./attributes_processor.ts";
import { parseAttributesConfig } from "./config.ts";

function batch(): Logs {
  const rec = (id: string, severityText: string) =>
    newLogRecord({
      severityText,
      attributes: [{ key: "id", value: stringValue(id) }, {
        key: "user.id",
        value: stringValue(`u-${id}`),
      }],
    });
  return {
    resourceLogs: ["payments", "kube-system"].map((ns) => ({
      schemaUrl: "",
      resource: newResource([{ key: "k8s.namespace.name", value: stringValue(ns) }]),
      scopeLogs: [{
        schemaUrl: "",
        scope: newScope("app", "1.0"),
        logRecords: [rec(`${ns}-1`, "INFO"), rec(`${ns}-2`, "DEBUG")],
      }],
    })),
  };
}

function userIds(logs: Logs): string[] {
  return logs.resourceLogs.flatMap((rl) =>
    rl.scopeLogs.flatMap((sl) =>
      sl.logRecords.map((r) =>
        (r.attributes.find((a) => a.key === "user.id")!.value as AnyValue & { kind: "string" })
          .value
      )
    )
  );
}

Deno.test("attributes: include/exclude choose the records the actions touch", async () => {
  const { config, issues } = parseWith(parseAttributesConfig, {
    actions: [{ key: "user.id", action: "hash" }],
    include: { match_type: "regexp", resources: [{ key: "k8s.namespace.name", value: "^pay" }] },
    exclude: { match_type: "strict", log_severity_texts: ["DEBUG"] },
  }, "processors::attributes");
  assert.deepEqual(issues, []);
  const next = capture();
  await new AttributesProcessor(config, next).consume(batch(), {});
  const ids = userIds(next.batches[0]!);
  assert.match(ids[0]!, /^[0-9a-f]{64}$/); // payments, INFO: hashed
  assert.deepEqual(ids.slice(1), ["u-payments-2", "u-kube-system-1", "u-kube-system-2"]);
});

Deno.test("attributes: match block errors are config errors with their path", () => {
  const { issues } = parseWith(parseAttributesConfig, {
    actions: [{ key: "a", action: "delete" }],
    include: { match_type: "strict" },
    exclude: { match_type: "glob", services: ["svc"], attributes: [{ key: "x" }] },
  }, "processors::attributes");
  const text = issues.map((i) => `${i.path}: ${i.message}`).join("\n");
  assert.match(
    text,
    /processors::attributes::include: At least one of .*"attributes".* must be specified/,
  );
  assert.match(
    text,
    /processors::attributes::exclude::services: services is not valid for log records/,
  );
  assert.match(text, /processors::attributes::exclude::match_type: Unrecognized match_type "glob"/);
});
