import assert from "node:assert/strict";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  encodeFile,
  type FileCheckpoint,
} from "./checkpoint.ts";

function checkpoint(fingerprint: Uint8Array): FileCheckpoint {
  return {
    fingerprint,
    offset: 42,
    recordNum: 0,
    attributes: { "log.file.name": "0.log" },
    path: "/var/log/pods/ns_pod_uid/app/0.log",
    gzip: false,
    headerFinalized: false,
    flushLastChangeMs: 0,
    flushLength: 0,
  };
}

Deno.test("checkpoint: the fingerprint is standard base64 of exactly its bytes, as upstream stores it", () => {
  // A view into a larger buffer, with bytes above 0x7f: only the viewed bytes are encoded.
  const backing = new Uint8Array([0xee, 0x00, 0xff, 0x80, 0x41, 0x0a, 0x99]);
  const fp = backing.subarray(1, 6);
  const line = encodeFile(checkpoint(fp));
  assert.equal(JSON.parse(line).Fingerprint.first_bytes, "AP+AQQo=");
  const [back] = decodeCheckpoint(encodeCheckpoint([line]));
  assert.deepEqual(back!.fingerprint, new Uint8Array([0x00, 0xff, 0x80, 0x41, 0x0a]));
  assert.equal(back!.offset, 42);
});

Deno.test("checkpoint: a fingerprint that is not base64 makes the checkpoint unreadable", () => {
  const line = encodeFile(checkpoint(new Uint8Array([1, 2, 3])))
    .replace(/"first_bytes":"[^"]*"/, '"first_bytes":"not base64!"');
  assert.throws(() => decodeCheckpoint(encodeCheckpoint([line])), SyntaxError);
});
