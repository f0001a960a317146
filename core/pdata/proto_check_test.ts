import assert from "node:assert/strict";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ExportLogsServiceRequestSchema } from "./gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.ts";
import { type AnyValue, logRecordCount, newLogRecord, newResource, newScope } from "./logs.ts";
import { decodeLogsRequest, encodeLogsRequest, MAX_ANY_VALUE_DEPTH } from "./otlp_proto.ts";
import { plainRecordCount } from "./proto_check.ts";
import { Prng, randomLogs } from "./testing.ts";

/** Protobuf framing for hand-made cases. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}
function field(tag: number, body: number[]): number[] {
  return [...varint(tag), ...varint(body.length), ...body];
}
const utf8 = (s: string) => [...new TextEncoder().encode(s)];

/** A request holding one record whose encoded body is `record`, under `resource`/`scope`. */
function request(record: number[], scope: number[] = [], resource: number[] = []): Uint8Array {
  const scopeLogs = [...(scope.length ? field(0x0a, scope) : []), ...field(0x12, record)];
  const rl = [...(resource.length ? field(0x0a, resource) : []), ...field(0x12, scopeLogs)];
  return new Uint8Array(field(0x0a, rl));
}
const stringValue = (s: number[]) => field(0x0a, s); // AnyValue.string_value
const keyValue = (key: string, value: number[]) => [
  ...field(0x0a, utf8(key)),
  ...field(0x12, value),
];

Deno.test("plainRecordCount() counts the records of whatever encodeLogsRequest writes", () => {
  for (let seed = 0; seed < 60; seed++) {
    const logs = randomLogs(seed, { maxDepth: 6 });
    const bytes = encodeLogsRequest(logs);
    assert.equal(plainRecordCount(bytes), logRecordCount(logs), `seed ${seed}`);
  }
  assert.equal(plainRecordCount(new Uint8Array(0)), 0);
});

Deno.test("plainRecordCount() sends everything the decoder would skip, replace or merge to it", () => {
  const body = stringValue(utf8("hello"));
  const plain = request(field(0x2a, body));
  assert.equal(plainRecordCount(plain), 1);
  const cases: Record<string, Uint8Array> = {
    "unknown field in a record": request([...field(0x2a, body), ...field(0x7a, [1])]),
    "unknown varint field in a record": request([...field(0x2a, body), 0xf8, 0x01, 0x01]),
    "unknown field at the top": new Uint8Array([...plain, ...field(0x12, [])]),
    "deprecated instrumentation_library_logs": new Uint8Array(
      field(0x0a, field(1000 * 8 + 2, field(0x12, []))),
    ),
    "resource entity_refs": request(field(0x2a, body), [], field(0x1a, [])),
    "KeyValue key_strindex": request(field(0x32, [...keyValue("k", body), 0x18, 0x01])),
    "AnyValue string_value_strindex": request(field(0x2a, [0x40, 0x01])),
    "two AnyValue kinds": request(field(0x2a, [...body, 0x10, 0x01])),
    "one AnyValue kind twice": request(field(0x2a, [...body, ...body])),
    "a record's body twice": request([...field(0x2a, body), ...field(0x2a, body)]),
    "a scope twice": request(field(0x2a, body), [...field(0x0a, utf8("a")), ...field(0x0a, [])]),
    "a resource twice": new Uint8Array(
      field(0x0a, [...field(0x0a, []), ...field(0x0a, []), ...field(0x12, [])]),
    ),
    "a known field with another wire type": request([0x08, 0x01]),
    "invalid UTF-8 in a string value": request(field(0x2a, stringValue([0x61, 0xff, 0x62]))),
    "invalid UTF-8 in a long string value": request(
      field(0x2a, stringValue([...utf8("x".repeat(100)), 0xc3])),
    ),
    "a lone surrogate in a key": request(
      field(
        0x32,
        keyValue("\ud800", body).map((b, i) =>
          i === 2 ? 0xed : i === 3 ? 0xa0 : i === 4 ? 0x80 : b
        ),
      ),
    ),
    "invalid UTF-8 in severity_text": request(field(0x1a, [0xe2, 0x82])),
    "a trace id of 15 bytes": request(field(0x4a, new Array(15).fill(1))),
    "a span id of 9 bytes": request(field(0x52, new Array(9).fill(1))),
    "a group": request([0x7b, 0x7c]),
    "a truncated record": request(field(0x2a, body)).subarray(0, 8),
    "a length past the end": new Uint8Array([0x0a, 0x05, 0x12, 0x00]),
  };
  for (const [what, bytes] of Object.entries(cases)) {
    assert.equal(plainRecordCount(bytes), undefined, what);
  }
  // Well-formed non-ASCII text stays plain.
  assert.equal(plainRecordCount(request(field(0x2a, stringValue(utf8("日本語 ✓ 🎉"))))), 1);
});

Deno.test("plainRecordCount() leaves AnyValue nesting past the decoder's limit to it", () => {
  const nested = (depth: number): Uint8Array => {
    let v: AnyValue = { kind: "string", value: "leaf" };
    for (let i = 1; i < depth; i++) v = { kind: "array", value: [v] };
    return encodeLogsRequest({
      resourceLogs: [{
        resource: newResource(),
        schemaUrl: "",
        scopeLogs: [{ scope: newScope(), schemaUrl: "", logRecords: [newLogRecord({ body: v })] }],
      }],
    });
  };
  assert.equal(plainRecordCount(nested(MAX_ANY_VALUE_DEPTH)), 1);
  assert.equal(plainRecordCount(nested(MAX_ANY_VALUE_DEPTH + 1)), undefined);
});

Deno.test("plainRecordCount() on corrupted requests: what it passes means the same to an independent decoder", () => {
  // For every corrupted request the check passes, the generated (protobuf-es) decoder must
  // read the raw bytes as the same message as our decode-and-re-encode: handing the bytes on
  // is then indistinguishable from the object path.
  const rng = new Prng(7);
  let passed = 0;
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const base = encodeLogsRequest(randomLogs(i % 80, { maxResources: 2, maxRecords: 3 }));
    if (base.length === 0) continue;
    const bytes = base.slice();
    for (let k = 1 + rng.int(3); k > 0; k--) bytes[rng.int(bytes.length)] = rng.u32() & 0xff;
    const count = plainRecordCount(bytes);
    if (count === undefined) {
      refused++;
      continue;
    }
    const ours = decodeLogsRequest(bytes);
    assert.equal(logRecordCount(ours), count, `case ${i}`);
    const raw = fromBinary(ExportLogsServiceRequestSchema, bytes);
    const reencoded = fromBinary(ExportLogsServiceRequestSchema, encodeLogsRequest(ours));
    // Compared serialised (canonical field order): a NaN double is not equal to itself.
    assert.deepEqual(
      toBinary(ExportLogsServiceRequestSchema, raw),
      toBinary(ExportLogsServiceRequestSchema, reencoded),
      `case ${i}`,
    );
    passed++;
  }
  assert.ok(passed > 200 && refused > 200, `too few cases: ${passed} passed, ${refused} refused`);
});
