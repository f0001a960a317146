import assert from "node:assert/strict";
import { FakeKubeApi } from "../../tests/fakes/kube_api.ts";
import { makeTestCerts } from "../../tests/fakes/otlp_sink.ts";
import { KubeClient, type KubeObject, PODS } from "./client.ts";
import { staticTokenSource } from "./config.ts";

Deno.test("TLS: the cluster CA is trusted, an unknown CA is refused, insecure-skip-tls-verify works", async () => {
  const certs = await makeTestCerts();
  const api = FakeKubeApi.start({
    token: "t",
    tls: {
      certPem: await Deno.readTextFile(certs.serverCertFile),
      keyPem: await Deno.readTextFile(certs.serverKeyFile),
    },
  });
  api.seed("pods", [{ metadata: { name: "a", namespace: "d", uid: "u" } }]);
  const base = { server: api.url, token: staticTokenSource("t"), describe: "test" };
  const list = async (client: KubeClient): Promise<string[]> => {
    const names: string[] = [];
    try {
      await client.list(
        PODS,
        {},
        (o: KubeObject) => names.push(String(o.metadata?.name)),
        AbortSignal.timeout(10_000),
      );
    } finally {
      client.close();
    }
    return names;
  };
  try {
    assert.deepEqual(
      await list(new KubeClient({ ...base, caPem: certs.caPem, insecureSkipTlsVerify: false })),
      ["a"],
    );
    await assert.rejects(list(new KubeClient({ ...base, insecureSkipTlsVerify: false })));
    assert.deepEqual(await list(new KubeClient({ ...base, insecureSkipTlsVerify: true })), ["a"]);
    assert.deepEqual(api.requests.map((r) => r.authorization), ["Bearer t", "Bearer t"]);
  } finally {
    await api.stop();
    await Deno.remove(certs.dir, { recursive: true });
  }
});
