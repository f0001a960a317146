/**
 * The otlp_http exporter with `auth::authenticator: headers_setter`: the tenant header of
 * each request comes from the metadata the data arrived with.
 */

import assert from "node:assert/strict";
import { sampleLogs } from "../../core/pdata/testing.ts";
import { startExporter } from "../../exporters/otlphttp/_test_helpers.ts";
import { headersSetterFactory } from "../../extensions/headers_setter/mod.ts";
import { HeadersSetter } from "../../extensions/headers_setter/extension.ts";
import { parseWith } from "../fakes/component_harness.ts";
import { startOtlpSink } from "../fakes/otlp_sink.ts";

Deno.test("otlp_http + headers_setter: X-Scope-OrgID from the request's x-tenant metadata", async () => {
  const sink = await startOtlpSink();
  try {
    const { config, issues } = parseWith(headersSetterFactory.parseConfig, {
      headers: [
        {
          key: "X-Scope-OrgID",
          action: "upsert",
          from_context: "x-tenant",
          default_value: "anonymous",
        },
        { key: "X-Team", action: "insert", value: "from-extension" },
        { key: "X-Drop", action: "delete" },
      ],
    }, "extensions::headers_setter");
    assert.deepEqual(issues, []);
    const auth = new HeadersSetter(config);
    const t = await startExporter({
      endpoint: sink.url,
      // Configured headers exist before the extension runs: insert keeps X-Team, delete removes X-Drop.
      headers: { "X-Team": "configured", "X-Drop": "secret" },
      auth: { authenticator: "headers_setter" },
    }, { headers_setter: auth });
    await t.exporter.consume(sampleLogs(2), {
      client: { metadata: new Map([["x-tenant", ["a"]]]) },
    });
    await t.exporter.consume(sampleLogs(1), {
      client: { metadata: new Map([["x-tenant", ["b"]]]) },
    });
    await t.exporter.consume(sampleLogs(1), {});
    await t.exporter.shutdown();
    assert.deepEqual(sink.requests.map((q) => q.headers["x-scope-orgid"]), ["a", "b", "anonymous"]);
    assert.deepEqual(sink.requests.map((q) => q.headers["x-team"]), [
      "configured",
      "configured",
      "configured",
    ]);
    assert.ok(sink.requests.every((q) => q.headers["x-drop"] === undefined));
    assert.equal(sink.records, 4);
  } finally {
    await sink.stop();
  }
});
