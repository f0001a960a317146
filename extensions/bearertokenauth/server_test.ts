/** bearertokenauth as a server authenticator: which requests it lets in. */

import assert from "node:assert/strict";
import { timingSafeEqual } from "node:crypto";
import { ComponentId, type CreateSettings } from "../../core/component.ts";
import { nopLogger } from "../../core/telemetry/logger.ts";
import { MetricsRegistry } from "../../core/telemetry/metrics.ts";
import type { BearerTokenAuthConfig } from "./config.ts";
import { BearerTokenAuth } from "./extension.ts";
import { TokenSet } from "./token_set.ts";

const settings: CreateSettings = {
  id: new ComponentId("bearertokenauth"),
  kind: "extension",
  logger: nopLogger(),
  metrics: new MetricsRegistry(),
  componentLabels: {},
  buildInfo: { command: "otelcol-deno", description: "otelcol-deno", version: "0.1.0" },
};

/** A started instance whose token file (if any) is checked on every request. */
async function server(over: Partial<BearerTokenAuthConfig>): Promise<BearerTokenAuth> {
  const cfg = { header: "Authorization", scheme: "Bearer", tokens: [], filename: "", ...over };
  const ext = new BearerTokenAuth(settings, cfg, 0);
  await ext.start();
  return ext;
}

/** Headers as receivers pass them: lower-cased keys, every value. */
function headers(
  entries: Readonly<Record<string, string | readonly string[]>>,
): Map<string, readonly string[]> {
  return new Map(
    Object.entries(entries).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]),
  );
}

Deno.test("bearertokenauth server: the right token is let in, with no identity beyond that", async () => {
  const ext = await server({ tokens: ["s3cr3t"] });
  assert.deepEqual(await ext.authenticate(headers({ authorization: "Bearer s3cr3t" })), {});
});

Deno.test("bearertokenauth server: a missing, empty, wrong-scheme or wrong token is refused", async () => {
  const ext = await server({ tokens: ["s3cr3t"] });
  const refused = [
    [{}, /Missing or empty Authorization header/],
    [{ authorization: "" }, /Missing or empty Authorization header/],
    [{ authorization: [] }, /Missing or empty Authorization header/],
    [{ authorization: "Basic s3cr3t" }, /does not match the expected scheme or token/],
    [{ authorization: "bearer s3cr3t" }, /does not match/], // the scheme is compared exactly
    [{ authorization: "s3cr3t" }, /does not match/],
    [{ authorization: "Bearer s3cr3" }, /does not match/], // a prefix
    [{ authorization: "Bearer s3cr3t2" }, /does not match/], // longer
    [{ authorization: "Bearer " }, /does not match/],
    [{ authorization: "Bearer wrong" }, /does not match/],
    // Only the first value counts, as upstream.
    [{ authorization: ["Bearer wrong", "Bearer s3cr3t"] }, /does not match/],
    [{ "x-token": "Bearer s3cr3t" }, /Missing or empty/],
  ] as const;
  for (const [h, message] of refused) {
    await assert.rejects(ext.authenticate(headers(h)), message, JSON.stringify(h));
  }
});

Deno.test("bearertokenauth server: each of `tokens` is accepted; header and scheme are configurable", async () => {
  const ext = await server({ tokens: ["one", "two", "three"] });
  for (const t of ["one", "two", "three"]) {
    assert.deepEqual(await ext.authenticate(headers({ authorization: `Bearer ${t}` })), {});
  }
  await assert.rejects(ext.authenticate(headers({ authorization: "Bearer four" })));
  const custom = await server({ tokens: ["k"], header: "X-Api-Key", scheme: "" });
  assert.deepEqual(await custom.authenticate(headers({ "x-api-key": "k" })), {});
  await assert.rejects(custom.authenticate(headers({ "x-api-key": "Bearer k" })));
  await assert.rejects(
    custom.authenticate(headers({ authorization: "k" })),
    /Missing or empty X-Api-Key/,
  );
});

Deno.test("bearertokenauth server: a rotated token file is used from then on; every line is a token", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/token`;
    await Deno.writeTextFile(file, "old\n");
    const ext = await server({ filename: file });
    const old = headers({ authorization: "Bearer old" });
    assert.deepEqual(await ext.authenticate(old), {});
    // Rotation with overlap: both accepted while clients move over; blank lines are not tokens.
    await Deno.writeTextFile(file, "new\n\n  old  \n");
    assert.deepEqual(await ext.authenticate(headers({ authorization: "Bearer new" })), {});
    assert.deepEqual(await ext.authenticate(old), {});
    await assert.rejects(ext.authenticate(headers({ authorization: "Bearer " })));
    assert.deepEqual(
      await ext.getRequestHeaders(),
      { authorization: "Bearer new" },
      "clients send the first",
    );
    await Deno.writeTextFile(file, "new-and-longer");
    await assert.rejects(ext.authenticate(old), /does not match/);
    // Unreadable for a while (a Secret being replaced): the last tokens stay in force.
    await Deno.remove(file);
    assert.deepEqual(
      await ext.authenticate(headers({ authorization: "Bearer new-and-longer" })),
      {},
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bearertokenauth server: an empty token file lets nobody in", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/token`, "\n");
    const ext = await server({ filename: `${dir}/token` });
    await assert.rejects(ext.authenticate(headers({ authorization: "Bearer " })), /does not match/);
    await assert.rejects(ext.authenticate(headers({ authorization: "Bearer" })), /does not match/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bearertokenauth server: tokens are compared by digest in constant time, with no early exit", async () => {
  const calls: [number, number][] = [];
  const counting = (a: Uint8Array, b: Uint8Array) => {
    calls.push([a.length, b.length]);
    return timingSafeEqual(a, b);
  };
  const ext = new BearerTokenAuth(
    settings,
    {
      header: "Authorization",
      scheme: "Bearer",
      tokens: ["a", "bb", "a-much-longer-token"],
      filename: "",
    },
    0,
    counting,
  );
  await ext.start();
  for (const presented of ["Bearer a", "Bearer a-much-longer-token", "Bearer x", "short"]) {
    calls.length = 0;
    await ext.authenticate(headers({ authorization: presented })).catch(() => {});
    // Every accepted value is compared, whichever matched, always as two 32-byte digests.
    assert.deepEqual(calls, [[32, 32], [32, 32], [32, 32]], presented);
  }
});

Deno.test("TokenSet: membership by exact value", () => {
  const set = new TokenSet(["Bearer é", "Bearer x"]);
  assert.equal(set.size, 2);
  assert.ok(set.has("Bearer é"));
  assert.ok(set.has("Bearer x"));
  assert.ok(!set.has("Bearer e"));
  assert.ok(!set.has("Bearer x "));
  assert.ok(!set.has(""));
  assert.ok(!new TokenSet([]).has(""));
});
