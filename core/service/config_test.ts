import assert from "node:assert/strict";
import { fromPlain } from "../config/node.ts";
import { ConfigIssues } from "../config/reader.ts";
import { Registry } from "../registry.ts";
import {
  captureFactory,
  flakyExtensionFactory,
  testgenFactory,
} from "../../tests/fakes/components.ts";
import { parseCollectorConfig } from "./config.ts";

const registry = new Registry([testgenFactory, captureFactory, flakyExtensionFactory]);

function issuesOf(plain: unknown): string[] {
  const issues = new ConfigIssues();
  parseCollectorConfig(fromPlain(plain), registry, issues);
  return issues.list.map((i) => `${i.severity} ${i.path}: ${i.message}`);
}

const BASE = {
  receivers: { testgen: {} },
  exporters: { capture: {} },
  service: { pipelines: { logs: { receivers: ["testgen"], exporters: ["capture"] } } },
};

Deno.test("a minimal valid config has no issues and telemetry defaults as upstream", () => {
  const issues = new ConfigIssues();
  const c = parseCollectorConfig(fromPlain(BASE), registry, issues);
  assert.deepEqual(issues.list, []);
  assert.equal(c.telemetry.metrics.address, "localhost:8888");
  assert.equal(c.telemetry.logs.level, "info");
  assert.equal(c.pipelines[0]!.id, "logs");
});

Deno.test("unknown connector types, traces pipelines, empty pipelines and duplicate extensions are errors", () => {
  const msgs = issuesOf({
    ...BASE,
    extensions: { flaky: {} },
    connectors: { forward: {} },
    service: {
      extensions: ["flaky", "flaky"],
      pipelines: {
        logs: { receivers: ["testgen"], exporters: ["capture"] },
        "logs/empty": {},
        traces: { receivers: ["testgen"], exporters: ["capture"] },
      },
    },
  });
  assert.ok(
    msgs.some((m) => /^error connectors::forward: Unknown connector type "forward"/.test(m)),
    msgs.join("\n"),
  );
  assert.ok(
    msgs.some((m) =>
      /^error service::extensions: References extension "flaky" more than once/.test(m)
    ),
  );
  assert.ok(
    msgs.some((m) =>
      /^error service::pipelines::traces: traces pipelines are not supported/.test(m)
    ),
  );
  assert.ok(
    msgs.some((m) =>
      /^error service::pipelines::logs\/empty::receivers: A pipeline needs at least one receiver/
        .test(m)
    ),
  );
  assert.ok(
    msgs.some((m) =>
      /^error service::pipelines::logs\/empty::exporters: A pipeline needs at least one exporter/
        .test(m)
    ),
  );
});

Deno.test("unused components and unlisted extensions are warnings, not errors", () => {
  const msgs = issuesOf({
    ...BASE,
    exporters: { capture: {}, "capture/spare": {} },
    extensions: { flaky: {} },
  });
  assert.deepEqual(msgs.filter((m) => m.startsWith("error")), []);
  assert.ok(
    msgs.some((m) =>
      /^warning exporters::capture\/spare: Exporter "capture\/spare" is defined but not used/.test(
        m,
      )
    ),
  );
  assert.ok(
    msgs.some((m) => /^warning extensions::flaky: .*not listed in service::extensions/.test(m)),
  );
});

Deno.test("bad component ids, unknown top-level sections and metrics readers are checked", () => {
  const msgs = issuesOf({
    ...BASE,
    receivers: { testgen: {}, "9bad": {}, "testgen/": {} },
    exporter: {},
    service: {
      ...BASE.service,
      telemetry: {
        metrics: {
          readers: [{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: 9999 } } } }],
        },
      },
    },
  });
  assert.ok(msgs.some((m) => /receivers::9bad: Invalid component id "9bad"/.test(m)));
  assert.ok(msgs.some((m) => /receivers::testgen\/: Invalid component id "testgen\/"/.test(m)));
  assert.ok(
    msgs.some((m) =>
      /^error exporter: Unknown key "exporter" \(did you mean "exporters"\?\)/.test(m)
    ),
  );
  const issues = new ConfigIssues();
  const c = parseCollectorConfig(
    fromPlain({
      ...BASE,
      service: {
        ...BASE.service,
        telemetry: {
          metrics: {
            readers: [{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: 9999 } } } }],
          },
        },
      },
    }),
    registry,
    issues,
  );
  assert.equal(c.telemetry.metrics.address, "0.0.0.0:9999");
});
