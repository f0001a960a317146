import assert from "node:assert/strict";
import { type Logs, newLogRecord, newResource, newScope } from "../../core/pdata/logs.ts";
import {
  decodeLogsRequest,
  encodeLogsRequest,
  OtlpDecodeError,
} from "../../core/pdata/otlp_proto.ts";
import { Prng, randomLogs, sampleLogs } from "../../core/pdata/testing.ts";
import { decodeLogsRequestSliced } from "./sliced_decode.ts";

Deno.test("sliced decode: equals the whole decode, for any slice size", async () => {
  const cases: Logs[] = [sampleLogs(500)];
  for (let seed = 1; seed <= 60; seed++) cases.push(randomLogs(seed, { maxRecords: 12 }));
  // Empty resources and scopes survive the slicing too.
  cases.push({
    resourceLogs: [
      { resource: newResource(), scopeLogs: [], schemaUrl: "s" },
      {
        resource: newResource(),
        schemaUrl: "",
        scopeLogs: [
          { scope: newScope("a", "1"), logRecords: [], schemaUrl: "" },
          { scope: newScope("b"), logRecords: [newLogRecord()], schemaUrl: "x" },
        ],
      },
    ],
  });
  for (const logs of cases) {
    const bytes = encodeLogsRequest(logs);
    const whole = decodeLogsRequest(bytes);
    for (const slice of [1, 300, 5000]) {
      assert.deepEqual(await decodeLogsRequestSliced(bytes, slice, 0), whole);
    }
  }
});

Deno.test("sliced decode: malformed input is refused as by the whole decode", async () => {
  const bytes = encodeLogsRequest(sampleLogs(200));
  const rng = new Prng(7);
  let refused = 0;
  for (let i = 0; i < 300; i++) {
    const b = new Uint8Array(bytes.subarray(0, bytes.length - (rng.u32() % 50)));
    b[rng.u32() % b.length] = rng.u32() & 0xff;
    let whole: unknown;
    try {
      whole = decodeLogsRequest(b);
    } catch (err) {
      whole = err;
    }
    if (whole instanceof OtlpDecodeError) {
      refused++;
      await assert.rejects(decodeLogsRequestSliced(b, 500, 0), OtlpDecodeError);
    } else {
      assert.deepEqual(await decodeLogsRequestSliced(b, 500, 0), whole);
    }
  }
  assert.ok(refused > 0);
  // A known top-level field with the wrong wire type is an error, not an unknown field.
  const wrongType = new Uint8Array([...bytes, 0x08, 0x01]);
  await assert.rejects(decodeLogsRequestSliced(wrongType, 500, 0), OtlpDecodeError);
});

Deno.test("sliced decode: the event loop runs between slices of a large request", async () => {
  const bytes = encodeLogsRequest(sampleLogs(5000));
  let timerRan = false;
  setTimeout(() => timerRan = true, 0);
  await decodeLogsRequestSliced(bytes, 16 * 1024, 0);
  assert.ok(timerRan);
});
