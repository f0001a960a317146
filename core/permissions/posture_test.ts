import assert from "node:assert/strict";
import { capabilityNames, describePosture, rootWritable } from "./posture.ts";

Deno.test("rootWritable: the last mount on / decides", () => {
  const ro = "22 1 0:21 / / ro,relatime - overlay overlay rw\n";
  const rw = "30 22 0:5 / / rw,nosuid - tmpfs tmpfs rw\n";
  assert.equal(rootWritable(ro), false);
  assert.equal(rootWritable(ro + rw), true);
  assert.equal(rootWritable("31 22 0:5 / /tmp rw - tmpfs tmpfs rw\n"), undefined);
});

Deno.test("capabilityNames: names the bits of CapEff", () => {
  assert.deepEqual(capabilityNames("0000000000000000"), []);
  assert.deepEqual(capabilityNames("0000000000000006"), [
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
  ]);
  assert.deepEqual(capabilityNames("0000000000200000"), ["CAP_SYS_ADMIN"]);
});

Deno.test("describePosture: warns for root and for capabilities, not for uid 1000 without", () => {
  const deno = { read: "restricted" };
  const clean = describePosture({ uid: 1000, gid: 0, capEff: "0", rootFsWritable: false, deno });
  assert.deepEqual(clean.warnings, []);
  assert.equal(clean.fields.capEff, "0x0");
  assert.equal(clean.fields.deno, "read=restricted");
  const root = describePosture({
    uid: 0,
    gid: 0,
    capEff: "0000000000000004",
    rootFsWritable: true,
    deno,
  });
  assert.equal(root.warnings.length, 2);
  assert.match(root.warnings[0]!, /Running as root/);
  assert.match(root.warnings[1]!, /CAP_DAC_READ_SEARCH/);
  const blind = describePosture({
    uid: 1000,
    gid: 0,
    capEff: undefined,
    rootFsWritable: undefined,
    deno,
  });
  assert.match(String(blind.fields.capEff), /unknown/);
});
