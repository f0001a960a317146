import assert from "node:assert/strict";
import { ComponentId } from "../../core/component.ts";
import { clientFileName, sanitizeFileName, upstreamBaseName } from "./file_name.ts";

Deno.test("clientFileName() follows upstream's <kind>_<type>_<name> with a .sqlite suffix", () => {
  assert.equal(clientFileName("receiver", new ComponentId("filelog")), "receiver_filelog_.sqlite");
  assert.equal(
    clientFileName("receiver", new ComponentId("filelog", "app")),
    "receiver_filelog_app.sqlite",
  );
  assert.equal(
    clientFileName("exporter", new ComponentId("otlphttp"), "logs"),
    "exporter_otlphttp__logs.sqlite",
  );
  assert.equal(
    clientFileName("exporter", new ComponentId("awss3", "devops"), "logs"),
    "exporter_awss3_devops_logs.sqlite",
  );
  // An empty storage name is the same as none, as upstream.
  assert.equal(
    clientFileName("receiver", new ComponentId("filelog"), ""),
    "receiver_filelog_.sqlite",
  );
  assert.equal(upstreamBaseName("receiver", new ComponentId("filelog")), "receiver_filelog_");
});

Deno.test("sanitizeFileName() escapes unsafe characters and ~ itself as ~%04X", () => {
  assert.equal(sanitizeFileName("A-z_0.9"), "A-z_0.9");
  assert.equal(sanitizeFileName("a/b"), "a~002Fb");
  assert.equal(sanitizeFileName("a~b"), "a~007Eb");
  assert.equal(sanitizeFileName("x y:z"), "x~0020y~003Az");
  assert.equal(sanitizeFileName("é"), "~00E9");
  assert.equal(sanitizeFileName("😀"), "~1F600"); // one code point, not two surrogates
  assert.equal(
    clientFileName("receiver", new ComponentId("filelog", "pods|k8s")),
    "receiver_filelog_pods~007Ck8s.sqlite",
  );
});

Deno.test("clientFileName() never produces two components in one file", () => {
  const names = new Set([
    clientFileName("receiver", new ComponentId("filelog", "a")),
    clientFileName("exporter", new ComponentId("filelog", "a")),
    clientFileName("receiver", new ComponentId("filelog", "a"), "x"),
    clientFileName("receiver", new ComponentId("filelog", "a~007E")),
    clientFileName("receiver", new ComponentId("filelog", "a~")),
  ]);
  assert.equal(names.size, 5);
});

Deno.test("clientFileName() hashes names too long for the filesystem", () => {
  const long = new ComponentId("filelog", "n".repeat(300));
  const name = clientFileName("receiver", long);
  assert.match(name, /^[0-9a-f]{64}\.sqlite$/);
  assert.equal(clientFileName("receiver", long), name, "stable across calls");
  assert.notEqual(clientFileName("receiver", new ComponentId("filelog", "m".repeat(300))), name);
});
