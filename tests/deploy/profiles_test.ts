/**
 * The deployment profiles, the manifests and the Dockerfile agree: each workload runs its
 * profile's binary, with the config where the profile expects it and the variables the
 * profile's allow-lists were computed with; the image builds and ships every profile.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { CONFIG_DIR, profileFlags, PROFILES, repoFile } from "../../deploy/profiles.ts";
import { findKubectl, type K8sObject, KUSTOMIZATIONS, podSpec, render } from "./_render.ts";

const kubectl = findKubectl();
const dockerfile = Deno.readTextFileSync(repoFile("deploy/Dockerfile"));

Deno.test("profiles: the agent's allow-lists are the narrow ones the issue names", async () => {
  const { flags, problems } = await profileFlags("agent");
  assert.deepEqual(problems, []);
  assert.deepEqual(flags.slice(0, 3), [
    "--allow-read=/etc/otelcol-deno,/var/lib/telemetry-log-agent,/var/log/pods," +
    "/var/run/secrets/kubernetes.io/serviceaccount",
    "--allow-write=/var/lib/telemetry-log-agent",
    "--allow-net=0.0.0.0:13133,0.0.0.0:8888,kubernetes.default.svc:443," +
    "otelcol-deno-gateway:4318",
  ]);
  assert.equal(flags[4], "--allow-sys=gid,uid");
  assert.ok(!flags.some((f) => f === "--allow-read" || f === "--allow-net" || f.includes("-A")));
});

Deno.test("profiles: build arguments name the backend and the proxy", async () => {
  const { flags } = await profileFlags("audit", {
    BACKEND_ENDPOINT: "https://logs.corp.example:8443",
    HTTPS_PROXY: "http://proxy.corp:3128",
  });
  const net = flags.find((f) => f.startsWith("--allow-net="))!;
  assert.equal(
    net,
    "--allow-net=0.0.0.0:13133,0.0.0.0:8888,logs.corp.example:8443,proxy.corp:3128",
  );
  await assert.rejects(profileFlags("nope"), /Unknown profile "nope"/);
});

Deno.test("profiles: the Dockerfile builds every profile and runs as 1000:0 without a shell", () => {
  for (const name of Object.keys(PROFILES)) {
    assert.match(dockerfile, new RegExp(`deno task compile:${name} --target=\\$target`));
    assert.match(dockerfile, new RegExp(`/src/dist/otelcol-deno-${name}\\b`));
  }
  assert.match(dockerfile, /^FROM gcr\.io\/distroless\/cc-debian12 AS runtime$/m);
  assert.match(dockerfile, /^USER 1000:0$/m);
  assert.match(dockerfile, /amd64\) target=x86_64-unknown-linux-gnu/);
  assert.match(dockerfile, /arm64\) target=aarch64-unknown-linux-gnu/);
  const denoJson = JSON.parse(Deno.readTextFileSync(repoFile("deno.json")));
  for (const name of Object.keys(PROFILES)) {
    assert.match(denoJson.tasks[`compile:${name}`].command, new RegExp(`compile\\.ts ${name}$`));
  }
});

Deno.test({
  name: "profiles: each workload runs its profile's binary with the variables it was built for",
  ignore: kubectl === undefined,
  fn() {
    const objects: K8sObject[] = KUSTOMIZATIONS.flatMap((d) => render(kubectl!, d));
    for (const [name, profile] of Object.entries(PROFILES)) {
      const w = objects.find((o) => o.metadata.name === `otelcol-deno-${name}` && podSpec(o));
      assert.ok(w, `a workload for the ${name} profile`);
      const c = podSpec(w)!.containers[0];
      assert.deepEqual(c.command, [`/usr/local/bin/otelcol-deno-${name}`]);
      const config = c.args[c.args.indexOf("--config") + 1];
      assert.equal(config, `${CONFIG_DIR}/${profile.config.split("/").pop()}`);
      const env = new Map<string, K8sObject>(c.env.map((e: K8sObject) => [e.name, e]));
      for (const [k, v] of Object.entries(profile.env)) {
        const e = env.get(k);
        assert.ok(e, `${name}: the manifest sets ${k}`);
        const literal = e.value ??
          objects.find((o) =>
            o.kind === "ConfigMap" && o.metadata.name === e.valueFrom?.configMapKeyRef?.name
          )?.data?.[k];
        assert.equal(literal, v, `${name}: ${k}`);
      }
      // The shipped config in the ConfigMap is the file the profile was computed from.
      const cm = objects.find((o) =>
        o.kind === "ConfigMap" && o.data?.[config.split("/").pop()!] !== undefined &&
        o.metadata.name.startsWith(`otelcol-deno-${name}`)
      );
      assert.equal(
        cm?.data[config.split("/").pop()!],
        Deno.readTextFileSync(repoFile(profile.config)),
      );
      assert.ok(parse(cm.data[config.split("/").pop()!]));
    }
  },
});
