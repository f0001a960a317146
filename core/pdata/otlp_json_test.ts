import assert from "node:assert/strict";
import { create, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import {
  ExportLogsServiceRequestSchema,
  ExportLogsServiceResponseSchema,
} from "./gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.ts";
import {
  type AnyValue,
  type LogRecord,
  type Logs,
  newLogRecord,
  newResource,
  newScope,
} from "./logs.ts";
import {
  decodeLogsRequestJson,
  decodeLogsResponseJson,
  encodeLogsRequestJson,
  encodeLogsResponseJson,
  OtlpDecodeError,
} from "./otlp_json.ts";
import { encodeLogsRequest, MAX_ANY_VALUE_DEPTH } from "./otlp_proto.ts";
import { fromBase64 } from "./json_reader.ts";
import { toBase64 } from "./json_writer.ts";
import { fromGenerated, Prng, randomLogs, sampleLogs, toGenerated } from "./testing.ts";

const schema = ExportLogsServiceRequestSchema;

function batch(records: LogRecord[]): Logs {
  return {
    resourceLogs: [{
      resource: newResource(),
      scopeLogs: [{ scope: newScope(), logRecords: records, schemaUrl: "" }],
      schemaUrl: "",
    }],
  };
}

function withBody(body: AnyValue): Logs {
  return batch([newLogRecord({ body })]);
}

// @bufbuild writes ids as base64 (the protobuf JSON mapping); OTLP/JSON wants hex.
function convertIds(json: JsonValue, convert: (s: string) => string): JsonValue {
  if (Array.isArray(json)) return json.map((v) => convertIds(v, convert));
  if (json === null || typeof json !== "object") return json;
  const out: { [k: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(json)) {
    out[k] = (k === "traceId" || k === "spanId") && typeof v === "string"
      ? convert(v)
      : convertIds(v, convert);
  }
  return out;
}
const b64ToHex = (s: string) =>
  [...fromBase64(s)!].map((b) => b.toString(16).padStart(2, "0")).join("");
const hexToB64 = (s: string) =>
  toBase64(new Uint8Array(s.match(/../g)!.map((h) => parseInt(h, 16))));

/** Replaces -0 doubles by 0: JSON.stringify cannot express -0, so @bufbuild's text loses it. */
function positiveZero(logs: Logs): Logs {
  const text = encodeLogsRequestJson(logs).replaceAll('"doubleValue":-0}', '"doubleValue":0}');
  return decodeLogsRequestJson(text);
}

/** Checks our JSON against itself and the generated code's JSON in both directions. */
function checkAll(logs: Logs): string {
  const text = encodeLogsRequestJson(logs);
  assert.deepStrictEqual(decodeLogsRequestJson(text), logs, "own round trip");
  const reference = convertIds(
    toJson(schema, toGenerated(logs), { enumAsInteger: true }),
    b64ToHex,
  );
  assert.deepStrictEqual(
    JSON.parse(text),
    reference,
    "same JSON as the generated code (ids in hex)",
  );
  assert.deepStrictEqual(
    decodeLogsRequestJson(JSON.stringify(reference)),
    positiveZero(logs),
    "we read the generated code's JSON",
  );
  assert.deepStrictEqual(
    fromGenerated(fromJson(schema, convertIds(JSON.parse(text), hexToB64))),
    logs,
    "the generated code reads our JSON",
  );
  return text;
}

function assertDecodeError(text: string, pattern: RegExp): void {
  assert.throws(() => decodeLogsRequestJson(text), (e: unknown) => {
    assert.ok(e instanceof OtlpDecodeError, `expected OtlpDecodeError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

function recordOf(text: string): LogRecord {
  return decodeLogsRequestJson(text).resourceLogs[0].scopeLogs[0].logRecords[0];
}

function jsonWithRecord(record: string): string {
  return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[${record}]}]}]}`;
}

// ---- round trips and cross-checks ----

Deno.test("encodeLogsRequestJson() of an empty batch is {} and decodes back", () => {
  assert.equal(checkAll({ resourceLogs: [] }), "{}");
  checkAll(batch([]));
  checkAll(batch([newLogRecord()]));
});

Deno.test("encodeLogsRequestJson() writes the OTLP/JSON format", () => {
  const logs = batch([newLogRecord({
    timeUnixNano: 1_714_564_800_123_456_789n,
    severityNumber: 9,
    body: { kind: "kvlist", value: [{ key: "n", value: { kind: "int", value: -5n } }] },
    traceId: new Uint8Array(16).fill(0xab),
    spanId: new Uint8Array(8).fill(0xcd),
    flags: 1,
  })]);
  const text = checkAll(logs);
  assert.equal(
    text,
    '{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{' +
      '"timeUnixNano":"1714564800123456789","severityNumber":9,' +
      '"body":{"kvlistValue":{"values":[{"key":"n","value":{"intValue":"-5"}}]}},' +
      '"flags":1,"traceId":"abababababababababababababababab","spanId":"cdcdcdcdcdcdcdcd"}]}]}]}',
  );
});

Deno.test("encodeLogsRequestJson() round-trips every kind of AnyValue and edge value", () => {
  for (
    const body of [
      undefined,
      { kind: "empty" },
      { kind: "string", value: "" },
      { kind: "string", value: 'quote " backslash \\ nul \u0000 😀 \ufeff \u2028' },
      { kind: "bool", value: false },
      { kind: "int", value: 0n },
      { kind: "int", value: -(2n ** 63n) },
      { kind: "int", value: 2n ** 63n - 1n },
      { kind: "double", value: NaN },
      { kind: "double", value: Infinity },
      { kind: "double", value: -Infinity },
      { kind: "double", value: -0 },
      { kind: "double", value: 1e21 },
      { kind: "double", value: Number.MIN_VALUE },
      { kind: "bytes", value: new Uint8Array(0) },
      { kind: "bytes", value: new Uint8Array([0xfb, 0xff, 0x00]) },
      { kind: "array", value: [] },
      { kind: "kvlist", value: [] },
    ] as (AnyValue | undefined)[]
  ) {
    checkAll(batch([newLogRecord({ body })]));
  }
});

Deno.test("encodeLogsRequestJson() writes non-finite doubles as strings and keeps -0", () => {
  const text = encodeLogsRequestJson(batch([
    newLogRecord({ body: { kind: "double", value: NaN } }),
    newLogRecord({ body: { kind: "double", value: -Infinity } }),
    newLogRecord({ body: { kind: "double", value: -0 } }),
  ]));
  assert.ok(text.includes('{"doubleValue":"NaN"}'));
  assert.ok(text.includes('{"doubleValue":"-Infinity"}'));
  assert.ok(text.includes('{"doubleValue":-0}'));
});

Deno.test("encodeLogsRequestJson() round-trips deep nesting and 1 MiB bodies", () => {
  let v: AnyValue = { kind: "int", value: 1n };
  for (let i = 1; i < MAX_ANY_VALUE_DEPTH; i++) {
    v = i % 2 ? { kind: "array", value: [v] } : { kind: "kvlist", value: [{ key: "k", value: v }] };
  }
  const deep = withBody(v);
  assert.deepStrictEqual(decodeLogsRequestJson(encodeLogsRequestJson(deep)), deep);
  checkAll(batch([
    newLogRecord({ body: { kind: "string", value: "é😀".repeat(1 << 18) } }),
    newLogRecord({ body: { kind: "bytes", value: new Prng(2).bytes(1 << 20) } }),
  ]));
});

Deno.test("random batches round-trip through our JSON and the generated code's", () => {
  for (let seed = 1; seed <= 300; seed++) {
    try {
      checkAll(randomLogs(seed));
    } catch (e) {
      throw new Error(`seed ${seed}: ${e}`);
    }
  }
});

Deno.test("JSON and protobuf codecs agree on random batches", () => {
  for (let seed = 1000; seed < 1100; seed++) {
    const logs = randomLogs(seed);
    const viaJson = decodeLogsRequestJson(encodeLogsRequestJson(logs));
    assert.deepStrictEqual(encodeLogsRequest(viaJson), encodeLogsRequest(logs), `seed ${seed}`);
  }
  const sample = sampleLogs(500);
  assert.deepStrictEqual(decodeLogsRequestJson(encodeLogsRequestJson(sample)), sample);
});

Deno.test("toBase64() and fromBase64() agree with btoa/atob", () => {
  const rng = new Prng(5);
  for (let n = 0; n < 200; n++) {
    const b = rng.bytes(n);
    const binary = String.fromCharCode(...b);
    assert.equal(toBase64(b), btoa(binary));
    assert.deepStrictEqual(fromBase64(btoa(binary)), b);
    const url = btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    assert.deepStrictEqual(fromBase64(url), b);
  }
  for (const bad of ["a", "ab=c", "abc==", "ab!d", "a===", "é"]) {
    assert.equal(fromBase64(bad), undefined, bad);
  }
});

// ---- lenient decoding ----

Deno.test("decodeLogsRequestJson() accepts snake_case keys, numbers and enum names", () => {
  const text =
    `{"resource_logs":[{"resource":{"attributes":[{"key":"a","value":{"string_value":"x"}}],
    "dropped_attributes_count":"2"},"schema_url":"r","scope_logs":[{"scope":{"name":"n",
    "dropped_attributes_count":3},"schema_url":"s","log_records":[{"time_unix_nano":1714564800123456789,
    "observed_time_unix_nano":"1714564800123456790","severity_number":"SEVERITY_NUMBER_WARN",
    "severity_text":"WARN","body":{"kvlist_value":{"values":[{"key":"i","value":{"int_value":-7}},
    {"key":"d","value":{"double_value":"2.5"}},{"key":"b","value":{"bool_value":true}},
    {"key":"y","value":{"bytes_value":"-_8"}},{"key":"l","value":{"array_value":{"values":[{}]}}}]}},
    "dropped_attributes_count":1,"flags":"257","trace_id":"ABCDEF0123456789abcdef0123456789",
    "span_id":"0011223344556677","event_name":"e","unknownField":{"x":[1,2]}}]}]}]}`;
  const expected: Logs = {
    resourceLogs: [{
      resource: {
        attributes: [{ key: "a", value: { kind: "string", value: "x" } }],
        droppedAttributesCount: 2,
      },
      schemaUrl: "r",
      scopeLogs: [{
        scope: { ...newScope("n"), droppedAttributesCount: 3 },
        schemaUrl: "s",
        logRecords: [{
          timeUnixNano: 1714564800123456789n,
          observedTimeUnixNano: 1714564800123456790n,
          severityNumber: 13,
          severityText: "WARN",
          body: {
            kind: "kvlist",
            value: [
              { key: "i", value: { kind: "int", value: -7n } },
              { key: "d", value: { kind: "double", value: 2.5 } },
              { key: "b", value: { kind: "bool", value: true } },
              { key: "y", value: { kind: "bytes", value: new Uint8Array([0xfb, 0xff]) } },
              { key: "l", value: { kind: "array", value: [{ kind: "empty" }] } },
            ],
          },
          attributes: [],
          droppedAttributesCount: 1,
          flags: 257,
          traceId: new Uint8Array([
            0xab,
            0xcd,
            0xef,
            0x01,
            0x23,
            0x45,
            0x67,
            0x89,
            0xab,
            0xcd,
            0xef,
            0x01,
            0x23,
            0x45,
            0x67,
            0x89,
          ]),
          spanId: new Uint8Array([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]),
          eventName: "e",
        }],
      }],
    }],
  };
  assert.deepStrictEqual(decodeLogsRequestJson(text), expected);
});

Deno.test("decodeLogsRequestJson() keeps int64 numbers beyond 2^53 exact", () => {
  const r = recordOf(jsonWithRecord(
    '{"timeUnixNano":18446744073709551615,"observedTimeUnixNano":1e18,' +
      '"body":{"intValue":-9223372036854775808},"attributes":[{"key":"d","value":{"doubleValue":' +
      "12345678901234567890}}]}",
  ));
  assert.equal(r.timeUnixNano, 18446744073709551615n);
  assert.equal(r.observedTimeUnixNano, 1000000000000000000n);
  assert.deepStrictEqual(r.body, { kind: "int", value: -9223372036854775808n });
  assert.deepStrictEqual(r.attributes[0].value, { kind: "double", value: 12345678901234567890 });
});

Deno.test("decodeLogsRequestJson() treats null as unset and ignores unknown fields", () => {
  const r = recordOf(jsonWithRecord(
    '{"timeUnixNano":null,"body":null,"attributes":null,"traceId":null,"future":{"a":1},' +
      '"severityText":null,"flags":null}',
  ));
  assert.deepStrictEqual(r, newLogRecord());
  const kv = recordOf(jsonWithRecord('{"attributes":[{"key":"k","value":null},{"key":"j"}]}'));
  assert.deepStrictEqual(kv.attributes, [
    { key: "k", value: { kind: "empty" } },
    { key: "j", value: { kind: "empty" } },
  ]);
  assert.deepStrictEqual(
    decodeLogsRequestJson('{"resourceLogs":null,"x":1}'),
    { resourceLogs: [] },
  );
});

// ---- malformed input ----

Deno.test("decodeLogsRequestJson() names the JSON path of a bad value", () => {
  assertDecodeError("{", /^Invalid OTLP JSON: .*must be a JSON-encoded ExportLogsServiceRequest/);
  assertDecodeError("[]", /expected an ExportLogsServiceRequest object, got an array/);
  assertDecodeError('{"resourceLogs":{}}', /at resourceLogs: expected an array, got an object/);
  assertDecodeError(
    jsonWithRecord('{"timeUnixNano":"12x"}'),
    /at resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.timeUnixNano: expected a uint64.*"12x"/,
  );
  assertDecodeError(jsonWithRecord('{"timeUnixNano":"-1"}'), /-1 is out of range for a uint64/);
  assertDecodeError(
    jsonWithRecord('{"body":{"intValue":"9223372036854775808"}}'),
    /logRecords\[0\]\.body\.intValue: 9223372036854775808 is out of range for an int64/,
  );
  assertDecodeError(jsonWithRecord('{"body":{"intValue":1.5}}'), /expected an int64/);
  assertDecodeError(jsonWithRecord('{"traceId":"abc"}'), /traceId: expected 32 hex digits/);
  assertDecodeError(jsonWithRecord('{"spanId":"zz11223344556677"}'), /spanId: invalid hex digit/);
  assertDecodeError(jsonWithRecord('{"severityNumber":"LOUD"}'), /severityNumber: expected a/);
  assertDecodeError(jsonWithRecord('{"flags":-1}'), /flags: -1 is out of range for a uint32/);
  assertDecodeError(jsonWithRecord('{"severityText":5}'), /severityText: expected a string, got 5/);
  assertDecodeError(
    jsonWithRecord(
      '{"attributes":[{"key":"a","value":{"arrayValue":{"values":[{},{"boolValue":1}]}}}]}',
    ),
    /logRecords\[0\]\.attributes\[0\]\.value\.arrayValue\.values\[1\]\.boolValue: expected true/,
  );
  assertDecodeError(
    jsonWithRecord('{"body":{"kvlistValue":{"values":[{"key":"k","value":{"bytesValue":"!"}}]}}}'),
    /body\.kvlistValue\.values\[0\]\.value\.bytesValue: expected base64/,
  );
  assertDecodeError(
    jsonWithRecord('{"body":{"doubleValue":"fast"}}'),
    /doubleValue: expected a number/,
  );
  assertDecodeError(jsonWithRecord("5"), /logRecords\[0\]: expected a LogRecord object/);
  assertDecodeError(
    '{"resourceLogs":[{"resource":{"attributes":[7]}}]}',
    /resourceLogs\[0\]\.resource\.attributes\[0\]: expected a KeyValue object/,
  );
  assertDecodeError(
    '{"resourceLogs":[{"scopeLogs":[{"scope":{"name":1}}]}]}',
    /scopeLogs\[0\]\.scope\.name: expected a string/,
  );
});

Deno.test("decodeLogsRequestJson() caps AnyValue nesting", () => {
  const nested = (depth: number) =>
    jsonWithRecord(
      '{"body":' + '{"arrayValue":{"values":['.repeat(depth - 1) + "{}" + "]}}".repeat(depth - 1) +
        "}",
    );
  assert.equal(recordOf(nested(MAX_ANY_VALUE_DEPTH)).body?.kind, "array");
  assertDecodeError(nested(MAX_ANY_VALUE_DEPTH + 1), /nested deeper than 128 levels/);
  assertDecodeError(nested(50_000), /nested deeper than 128 levels|Invalid OTLP JSON/);
});

Deno.test("decodeLogsRequestJson() rejects every truncation and survives corruption", () => {
  const text = encodeLogsRequestJson(randomLogs(3));
  for (let n = 1; n < text.length; n += 7) {
    assert.throws(() => decodeLogsRequestJson(text.slice(0, n)), OtlpDecodeError, `prefix ${n}`);
  }
  const rng = new Prng(8);
  const alphabet = '{}[]",:0123456789-eE.aZ nul\\';
  for (let i = 0; i < 1000; i++) {
    const chars = [...encodeLogsRequestJson(randomLogs(i % 40, { maxResources: 1 }))];
    for (let k = 1 + rng.int(3); k > 0; k--) chars[rng.int(chars.length)] = rng.pick([...alphabet]);
    try {
      decodeLogsRequestJson(chars.join(""));
    } catch (e) {
      if (!(e instanceof OtlpDecodeError)) throw new Error(`case ${i}: ${e}`);
    }
  }
});

// ---- responses ----

Deno.test("encodeLogsResponseJson() round-trips and matches the generated code", () => {
  for (
    const p of [
      undefined,
      { rejectedLogRecords: 0n, errorMessage: "" },
      { rejectedLogRecords: 3n, errorMessage: 'bad "ids"' },
      { rejectedLogRecords: -(2n ** 63n), errorMessage: "😀" },
    ]
  ) {
    const text = encodeLogsResponseJson(p);
    assert.deepStrictEqual(decodeLogsResponseJson(text), p);
    const gen = create(ExportLogsServiceResponseSchema, p ? { partialSuccess: p } : {});
    assert.deepStrictEqual(JSON.parse(text), toJson(ExportLogsServiceResponseSchema, gen));
    const back = fromJson(ExportLogsServiceResponseSchema, JSON.parse(text)).partialSuccess;
    assert.deepStrictEqual(
      back && { rejectedLogRecords: back.rejectedLogRecords, errorMessage: back.errorMessage },
      p,
    );
  }
  assert.equal(encodeLogsResponseJson(), "{}");
});

Deno.test("decodeLogsResponseJson() is lenient about keys and strict about types", () => {
  assert.deepStrictEqual(
    decodeLogsResponseJson(
      '{"partial_success":{"rejected_log_records":4,"error_message":"x"},"y":1}',
    ),
    { rejectedLogRecords: 4n, errorMessage: "x" },
  );
  assert.equal(decodeLogsResponseJson('{"partialSuccess":null}'), undefined);
  assert.throws(
    () => decodeLogsResponseJson('{"partialSuccess":{"rejectedLogRecords":"many"}}'),
    /Invalid OTLP JSON ExportLogsServiceResponse at partialSuccess\.rejectedLogRecords/,
  );
  assert.throws(() => decodeLogsResponseJson("nope"), OtlpDecodeError);
});
