import assert from "node:assert/strict";
import { EncodedLogs } from "./encoded_logs.ts";
import { logRecordCount, type Logs, type Resource, stringValue } from "./logs.ts";
import { decodeLogsRequest, encodeLogsRequest } from "./otlp_proto.ts";
import { randomLogs } from "./testing.ts";

/** Adds an attribute naming the resource's position and bumps its dropped count. */
function tagger() {
  let n = 0;
  return (r: Resource) => {
    r.attributes.push({ key: "edited", value: stringValue(`#${n++}`) });
    r.droppedAttributesCount += 1;
  };
}

/** `logs` as an encoded batch of one piece per resource (as `batch` joins requests). */
function encodedPerResource(logs: Logs): EncodedLogs {
  const pieces = logs.resourceLogs.map((rl) => encodeLogsRequest({ resourceLogs: [rl] }));
  return new EncodedLogs(pieces, logRecordCount(logs));
}

Deno.test("editResources(): the same resources as editing the objects, the records untouched", () => {
  for (let seed = 0; seed < 40; seed++) {
    const logs = randomLogs(seed, { maxResources: 4 });
    const expected = decodeLogsRequest(encodeLogsRequest(logs));
    const edit = tagger();
    for (const rl of expected.resourceLogs) edit(rl.resource);

    const encoded = seed % 2 === 0
      ? encodedPerResource(logs)
      : new EncodedLogs([encodeLogsRequest(logs)], logRecordCount(logs));
    const before = encoded.cloneEncoded()!;
    assert.equal(encoded.editResources(tagger()), true, `seed ${seed}`);
    assert.ok(encoded.pieces !== undefined, "still held encoded");
    assert.equal(encoded.encodedRecords, logRecordCount(logs));
    assert.deepEqual({ resourceLogs: encoded.resourceLogs }, expected, `seed ${seed}`);
    // A copy taken before shares the old bytes, which did not change.
    assert.deepEqual(
      { resourceLogs: before.resourceLogs },
      decodeLogsRequest(encodeLogsRequest(logs)),
    );
  }
});

Deno.test("editResources(): a ResourceLogs without a resource field gets one", () => {
  // resource_logs { scope_logs { log_records { severity_text: "x" } } }
  const bytes = new Uint8Array([0x0a, 0x07, 0x12, 0x05, 0x12, 0x03, 0x1a, 0x01, 0x78]);
  const encoded = new EncodedLogs([bytes], 1);
  assert.equal(encoded.editResources(tagger()), true);
  const rl = encoded.resourceLogs[0]!;
  assert.deepEqual(rl.resource.attributes, [{ key: "edited", value: stringValue("#0") }]);
  assert.equal(rl.scopeLogs[0]!.logRecords[0]!.severityText, "x");
});

Deno.test("editResources(): nothing is called or changed when a piece needs a decode", () => {
  const good = encodeLogsRequest(randomLogs(8));
  // A ResourceLogs with its resource twice: a decode merges them, so it must decode.
  const twice = new Uint8Array([0x0a, 0x04, 0x0a, 0x00, 0x0a, 0x00]);
  for (const pieces of [[good, twice], [new Uint8Array([0x0a, 0x05, 0x0a])]]) {
    const encoded = new EncodedLogs(pieces, 1);
    let calls = 0;
    assert.equal(encoded.editResources(() => calls++), false);
    assert.equal(calls, 0);
    assert.deepEqual(encoded.pieces, pieces);
  }
  const decoded = new EncodedLogs([good], 1);
  void decoded.resourceLogs;
  assert.equal(decoded.editResources(() => {}), false, "decoded already");
});
