import assert from "node:assert/strict";
import {
  decodeLogsRequestJson,
  encodeLogsRequestJson,
  OtlpDecodeError,
} from "../../core/pdata/otlp_json.ts";
import { randomLogs, sampleLogs } from "../../core/pdata/testing.ts";
import { decodeLogsRequestJsonSliced } from "./sliced_json.ts";

/** Tiny slices: many runs of resources and records. */
const TINY = { wholeMaxChars: 300, sliceChars: 300, yieldMs: 1000 };

/** Sliced with tiny slices against the whole decode. */
async function sameAsWhole(text: string): Promise<void> {
  assert.deepEqual(await decodeLogsRequestJsonSliced(text, TINY), decodeLogsRequestJson(text));
}

/** Both decoders reject `text` with the same message. */
async function sameError(text: string): Promise<void> {
  let whole: unknown;
  try {
    decodeLogsRequestJson(text);
  } catch (e) {
    whole = e;
  }
  assert.ok(whole instanceof Error, "the whole decode must reject this");
  await assert.rejects(decodeLogsRequestJsonSliced(text, TINY), { message: whole.message });
}

Deno.test("sliced JSON decode: random requests (every field) decode as a whole decode does", async () => {
  for (let seed = 1; seed <= 30; seed++) {
    const logs = randomLogs(seed, { maxResources: 4, maxScopes: 3, maxRecords: 12 });
    const text = encodeLogsRequestJson(logs);
    await sameAsWhole(text);
    // Pretty-printed: white space everywhere the scanner walks.
    await sameAsWhole(JSON.stringify(JSON.parse(text), null, 2));
  }
});

Deno.test("sliced JSON decode: snake_case keys, nulls, unknown fields, escaped keys, exact int64", async () => {
  const record = (i: number) =>
    `{"time_unix_nano": ${
      i === 3 ? "1764000000000000123" : `"${1764000000000000000n + BigInt(i)}"`
    }, "severity_number": "SEVERITY_NUMBER_INFO", "body": {"stringValue": "line ${i} \\"q\\" ]}[{"},` +
    ` "attributes": null, "extra": {"nested": [1, {"a": "]"}]}}`;
  const records = Array.from({ length: 40 }, (_, i) => record(i)).join(",");
  const text = `{"unknown": [{"x": "}"}], "resource_logs": [` +
    `{"resource": {"attributes": [{"key": "k", "value": {"intValue": 7}}]}, "scope_logs": [` +
    `{"scope": {"name": "s"}, "log_records": [${records}], "schema_url": "u"},` +
    `{"scope": null, "log\\u0052ecords": [${records}]}, {"logRecords": null}]},` +
    `{"scopeLogs": null}, {"resource": null}]}`;
  await sameAsWhole(text);
  const logs = await decodeLogsRequestJsonSliced(text, TINY);
  assert.equal(logs.resourceLogs[0]!.scopeLogs[1]!.logRecords.length, 40);
  assert.equal(
    logs.resourceLogs[0]!.scopeLogs[0]!.logRecords[3]!.timeUnixNano,
    1764000000000000123n,
  );
});

Deno.test("sliced JSON decode: errors name the same place as a whole decode's", async () => {
  const text = encodeLogsRequestJson(sampleLogs(200));
  const root = JSON.parse(text);
  const broken = (edit: (r: typeof root) => void) => {
    const r = structuredClone(root);
    edit(r);
    return JSON.stringify(r);
  };
  // In a record deep in the request, in a resource, in a scope, at the top.
  await sameError(broken((r) => r.resourceLogs.at(-1).scopeLogs[0].logRecords.at(-1).body = 5));
  await sameError(broken((r) => r.resourceLogs.at(-1).scopeLogs[0].logRecords[2].traceId = "xyz"));
  await sameError(broken((r) => r.resourceLogs[1].resource.attributes = "no"));
  await sameError(broken((r) => r.resourceLogs[0].scopeLogs[0].scope.name = 3));
  await sameError(broken((r) => r.resourceLogs[0].scopeLogs = {}));
  await sameError(broken((r) => r.resourceLogs.push(4)));
  // A key twice: JSON.parse keeps the last; the sliced decode falls back to a whole decode.
  const twice = text.replace(
    '"logRecords":',
    '"logRecords":[{"body":{"intValue":"x"}}],"logRecords":',
  );
  await sameAsWhole(twice);
});

Deno.test("sliced JSON decode: malformed text is refused, deep nesting does not crash it", async () => {
  const text = encodeLogsRequestJson(sampleLogs(100));
  for (const cut of [text.length - 1, Math.floor(text.length / 2), 1000]) {
    await assert.rejects(
      decodeLogsRequestJsonSliced(text.slice(0, cut), TINY),
      /Invalid OTLP JSON/,
    );
  }
  await assert.rejects(decodeLogsRequestJsonSliced(text + " x", TINY), /Invalid OTLP JSON/);
  // A key with a broken escape: refused as bad JSON, like any other.
  await assert.rejects(
    decodeLogsRequestJsonSliced(text.replace('"scope":', '"sc\\qope":'), TINY),
    (e: Error) => e instanceof OtlpDecodeError && /bad escape in a key/.test(e.message),
  );
  await assert.rejects(
    decodeLogsRequestJsonSliced(text.replace('"body":{', '"body":{,'), TINY),
    /Invalid OTLP JSON/,
  );
  // An AnyValue nested 10,000 deep in a large request: refused with the whole decode's message.
  const deep = '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(10_000) + '{"intValue":1}' +
    "}]}}".repeat(10_000);
  await sameError(text.replace('"body":{', `"body":${deep},"x":{`));
});

Deno.test("sliced JSON decode: a large body gives timers their turn while it decodes", async () => {
  const text = encodeLogsRequestJson(sampleLogs(2000));
  const order: string[] = [];
  setTimeout(() => order.push("timer"), 0);
  await decodeLogsRequestJsonSliced(text, { wholeMaxChars: 10_000, yieldMs: 0 });
  order.push("decoded");
  assert.deepEqual(order, ["timer", "decoded"]);
});
