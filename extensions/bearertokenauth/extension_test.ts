import assert from "node:assert/strict";
import { ComponentId, type CreateSettings } from "../../core/component.ts";
import { createLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import type { BearerTokenAuthConfig } from "./config.ts";
import { BearerTokenAuth } from "./extension.ts";

/** An instance whose log lines are collected; by default the file is checked every request. */
function auth(over: Partial<BearerTokenAuthConfig>, checkIntervalMs = 0) {
  const lines: string[] = [];
  const settings: CreateSettings = {
    id: new ComponentId("bearertokenauth"),
    kind: "extension",
    logger: createLogger({ level: "debug", encoding: "json", sink: (l) => lines.push(l) }),
    metrics: new MetricsRegistry(),
    componentLabels: {},
    buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
  };
  const cfg = { header: "Authorization", scheme: "Bearer", tokens: [], filename: "", ...over };
  return { ext: new BearerTokenAuth(settings, cfg, checkIntervalMs), lines };
}

Deno.test("bearertokenauth: a static token goes into the header, with or without a scheme", async () => {
  const { ext } = auth({ tokens: ["s3cr3t"] });
  await ext.start();
  assert.deepEqual(await ext.getRequestHeaders(), { authorization: "Bearer s3cr3t" });
  const custom = auth({ tokens: ["k"], header: "X-Api-Key", scheme: "" }).ext;
  assert.deepEqual(await custom.getRequestHeaders(), { "x-api-key": "k" });
});

Deno.test("bearertokenauth: a token file is read, trimmed, and re-read when it changes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/token`;
    await Deno.writeTextFile(file, "first\n");
    const { ext, lines } = auth({ filename: file });
    await ext.start();
    assert.deepEqual(await ext.getRequestHeaders(), { authorization: "Bearer first" });
    await Deno.writeTextFile(file, "  second-and-longer \n\n");
    assert.deepEqual(await ext.getRequestHeaders(), { authorization: "Bearer second-and-longer" });
    assert.ok(lines.some((l) => l.includes("Bearer token reloaded")));

    // Gone (a Secret being replaced): the last token stays, with one warning.
    await Deno.remove(file);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await ext.getRequestHeaders(), {
        authorization: "Bearer second-and-longer",
      });
    }
    assert.equal(lines.filter((l) => l.includes("keeping the last tokens")).length, 1);
    await Deno.writeTextFile(file, "third");
    assert.deepEqual(await ext.getRequestHeaders(), { authorization: "Bearer third" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bearertokenauth: a Kubernetes Secret swapped by symlink is picked up", async () => {
  // Secret volumes: token → ..data/token, ..data → ..<timestamp>; an update swaps ..data.
  const dir = await Deno.makeTempDir();
  try {
    for (const [v, token] of [["..v1", "one"], ["..v2", "two"]]) {
      await Deno.mkdir(`${dir}/${v}`);
      await Deno.writeTextFile(`${dir}/${v}/token`, token!);
    }
    await Deno.symlink("..v1", `${dir}/..data`);
    await Deno.symlink("..data/token", `${dir}/token`);
    const { ext } = auth({ filename: `${dir}/token` });
    await ext.start();
    assert.deepEqual(await ext.getRequestHeaders(), { authorization: "Bearer one" });
    await Deno.symlink("..v2", `${dir}/..data_tmp`);
    await Deno.rename(`${dir}/..data_tmp`, `${dir}/..data`);
    assert.deepEqual(await ext.getRequestHeaders(), { authorization: "Bearer two" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bearertokenauth: an unreadable token file fails start, naming it", async () => {
  const { ext } = auth({ filename: "/nonexistent/token" });
  await assert.rejects(ext.start(), /Cannot read the bearer token file "\/nonexistent\/token"/);
});

Deno.test("bearertokenauth: the file is checked at most once per interval", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/token`;
    await Deno.writeTextFile(file, "old");
    const { ext } = auth({ filename: file }, 60_000);
    await ext.start();
    await Deno.writeTextFile(file, "new");
    assert.deepEqual(await ext.getRequestHeaders(), { authorization: "Bearer old" }, "not yet");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
