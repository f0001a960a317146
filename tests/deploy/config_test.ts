/**
 * The collector configs the manifests ship validate with `otelcol-deno validate`, with the
 * environment their containers get. A config that names a component type this build does not
 * register is skipped, and the test name says which types are missing.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { BUILTIN_FACTORIES } from "../../components.ts";
import { runCliProcess } from "../fakes/run.ts";
import { DEPLOY_DIR } from "./_render.ts";

/** Each shipped config with the environment its workload sets (Downward API values faked). */
const CONFIGS: Record<string, Record<string, string>> = {
  "agent/agent.yaml": { GATEWAY_ENDPOINT: "http://otelcol-deno-gateway:4318" },
  "gateway/gateway.yaml": {
    BACKEND_ENDPOINT: "https://otlp.example.com",
    BACKEND_TOKEN: "t",
  },
  "audit/audit.yaml": {
    BACKEND_ENDPOINT: "https://otlp.example.com",
    BACKEND_TOKEN: "t",
    CLUSTER_NAME: "c",
  },
};
const POD_ENV = {
  K8S_NODE_NAME: "node-1",
  K8S_POD_NAME: "pod-1",
  K8S_POD_NAMESPACE: "observability",
  KUBERNETES_SERVICE_HOST: "kubernetes.default.svc",
  KUBERNETES_SERVICE_PORT: "443",
};

const known = new Set<string>();
for (const f of BUILTIN_FACTORIES) {
  for (const t of [f.type, ...(f.aliases ?? [])]) known.add(`${f.kind}:${t}`);
}

/** Component types `config` names that this build does not register. */
function missingTypes(config: Record<string, Record<string, unknown>>): string[] {
  const kinds = { receivers: "receiver", processors: "processor", exporters: "exporter" };
  const out: string[] = [];
  for (const [section, kind] of Object.entries({ ...kinds, extensions: "extension" })) {
    for (const id of Object.keys(config[section] ?? {})) {
      const type = id.split("/")[0]!;
      if (!known.has(`${kind}:${type}`)) out.push(`${kind} ${type}`);
    }
  }
  return out;
}

for (const [file, env] of Object.entries(CONFIGS)) {
  const path = DEPLOY_DIR + file;
  const missing = missingTypes(parse(Deno.readTextFileSync(path)));
  Deno.test({
    name: `deploy: ${file} validates` +
      (missing.length > 0 ? ` (skipped: not registered yet: ${missing.join(", ")})` : ""),
    ignore: missing.length > 0,
    async fn() {
      // The real validator, in its own process: components read the environment themselves.
      const run = await runCliProcess(["validate", "--config", path], {
        env: { ...POD_ENV, ...env },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /Configuration is valid/);
    },
  });
}

Deno.test("deploy: the audit agent runs examples/audit_agent.yaml's pipeline", () => {
  const shipped = parse(Deno.readTextFileSync(DEPLOY_DIR + "audit/audit.yaml"));
  const example = parse(
    Deno.readTextFileSync(new URL("../../examples/audit_agent.yaml", import.meta.url)),
  );
  assert.deepEqual(shipped.receivers, example.receivers);
  assert.deepEqual(
    shipped.exporters.otlp_http.sending_queue,
    example.exporters.otlp_http.sending_queue,
  );
  assert.deepEqual(shipped.service.pipelines, example.service.pipelines);
  // Its own state directory, beside the node agent's in the host's /var/tmp.
  assert.equal(
    shipped.extensions.file_storage.directory,
    "/var/lib/telemetry-log-agent/kube-audit",
  );
  assert.equal(shipped.extensions.file_storage.create_directory, true);
});
