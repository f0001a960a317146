/**
 * The otlp_http exporter with `auth::authenticator: bearertokenauth`: every request the
 * backend sees carries the token, and a rotated token file is used from then on.
 */

import assert from "node:assert/strict";
import { ComponentId } from "../../core/component.ts";
import { fromPlain } from "../../core/config/node.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { sampleLogs } from "../../core/pdata/testing.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import { startExporter } from "../../exporters/otlphttp/_test_helpers.ts";
import { BearerTokenAuth } from "../../extensions/bearertokenauth/extension.ts";
import { bearerTokenAuthFactory } from "../../extensions/bearertokenauth/mod.ts";
import { startOtlpSink } from "../fakes/otlp_sink.ts";

Deno.test("otlp_http + bearertokenauth: the backend sees the token, and the rotated one", async () => {
  const dir = await Deno.makeTempDir();
  const sink = await startOtlpSink();
  try {
    const file = `${dir}/token`;
    await Deno.writeTextFile(file, "first-token\n");
    const issues = new ConfigIssues();
    const r = new ConfigReader(
      fromPlain({ filename: file }),
      "extensions::bearertokenauth",
      issues,
    );
    const config = bearerTokenAuthFactory.parseConfig(r);
    r.done();
    assert.deepEqual(issues.list, []);
    const auth = new BearerTokenAuth(
      {
        id: new ComponentId("bearertokenauth"),
        kind: "extension",
        logger: nopLogger(),
        metrics: new MetricsRegistry(),
        componentLabels: {},
        buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
      },
      config,
      0,
    );
    await auth.start();
    const t = await startExporter({
      endpoint: sink.url,
      // A configured header of the same name loses to the authenticator's, as upstream.
      headers: { authorization: "Basic stale" },
      auth: { authenticator: "bearertokenauth" },
    }, { bearertokenauth: auth });
    await t.exporter.consume(sampleLogs(2), {});
    await Deno.writeTextFile(file, "second-token\n");
    await t.exporter.consume(sampleLogs(1), {});
    await t.exporter.shutdown();
    assert.deepEqual(sink.requests.map((q) => q.headers["authorization"]), [
      "Bearer first-token",
      "Bearer second-token",
    ]);
    assert.equal(sink.records, 3);
  } finally {
    await sink.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
