import assert from "node:assert/strict";
import { EncodedLogs } from "../../core/pdata/encoded_logs.ts";
import {
  type Logs,
  newLogRecord,
  newResource,
  newScope,
  stringValue,
} from "../../core/pdata/logs.ts";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { sampleLogs } from "../../core/pdata/testing.ts";
import { logsFromProtobuf } from "./protobuf_logs.ts";

/** One resource holding `n` records of about 200 bytes each. */
function oneResource(n: number): Logs {
  const body = stringValue("x".repeat(200));
  return {
    resourceLogs: [{
      resource: newResource(),
      schemaUrl: "",
      scopeLogs: [{
        scope: newScope("s"),
        schemaUrl: "",
        logRecords: Array.from({ length: n }, () => newLogRecord({ body })),
      }],
    }],
  };
}

const asObjects = (logs: Logs): Logs => ({ resourceLogs: logs.resourceLogs });

Deno.test("logsFromProtobuf(): bytes handed on only when asked, and the same records either way", async () => {
  const logs = sampleLogs(50);
  const bytes = encodeLogsRequest(logs);
  const handed = await logsFromProtobuf(bytes, { handOnEncoded: true });
  assert.ok(handed instanceof EncodedLogs && handed.pieces?.[0] === bytes, "kept, not copied");
  const borrowed = await logsFromProtobuf(bytes, { handOnEncoded: true, borrowed: true });
  assert.ok(borrowed instanceof EncodedLogs && borrowed.pieces?.[0] !== bytes, "a copy");
  const decoded = await logsFromProtobuf(bytes, { handOnEncoded: false });
  assert.ok(!(decoded instanceof EncodedLogs));
  assert.deepEqual(asObjects(handed), logs);
  assert.deepEqual(asObjects(borrowed), logs);
  assert.deepEqual(decoded, logs);
});

Deno.test("logsFromProtobuf(): a resource larger than one check is decoded in slices instead", async () => {
  const logs = oneResource(12_000); // ~2.6 MB in one resource_logs field
  const got = await logsFromProtobuf(encodeLogsRequest(logs), { handOnEncoded: true });
  assert.ok(!(got instanceof EncodedLogs));
  assert.deepEqual(got, logs);
});

Deno.test("logsFromProtobuf(): a large body with one field not in the plain form is decoded", async () => {
  const logs = sampleLogs(4000); // ~850 KB: checked a run of resources at a time
  const plain = encodeLogsRequest(logs);
  assert.ok(await logsFromProtobuf(plain, { handOnEncoded: true }) instanceof EncodedLogs);
  // An unknown varint field (99) at the end: the last run needs a decode, so all of it does.
  const odd = new Uint8Array([...plain, 0x98, 0x06, 0x01]);
  const got = await logsFromProtobuf(odd, { handOnEncoded: true });
  assert.ok(!(got instanceof EncodedLogs));
  assert.deepEqual(got, logs);
});
