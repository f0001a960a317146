import assert from "node:assert/strict";
import { inClusterConfig, kubeConfigConfig, loadClientConfig } from "./config.ts";

const KUBECONFIG = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
  - name: dev-cluster
    cluster:
      server: https://dev.example.com:6443/
      certificate-authority-data: ${btoa("DEV CA PEM")}
  - name: lab-cluster
    cluster:
      server: https://lab.example.com
      insecure-skip-tls-verify: true
contexts:
  - name: dev
    context: { cluster: dev-cluster, user: dev-user }
  - name: lab
    context: { cluster: lab-cluster, user: lab-user }
  - name: sso
    context: { cluster: lab-cluster, user: sso-user }
users:
  - name: dev-user
    user:
      client-certificate: certs/client.crt
      client-key-data: ${btoa("CLIENT KEY PEM")}
  - name: lab-user
    user: { token: static-token }
  - name: sso-user
    user: { exec: { command: kubelogin } }
`;

async function withKubeconfig<T>(fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/certs`);
    await Deno.writeTextFile(`${dir}/certs/client.crt`, "CLIENT CERT PEM");
    await Deno.writeTextFile(`${dir}/config`, KUBECONFIG);
    return await fn(`${dir}/config`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("kubeconfig: current context with CA data and a client certificate file", async () => {
  await withKubeconfig(async (path) => {
    const cfg = await kubeConfigConfig(path);
    assert.equal(cfg.server, "https://dev.example.com:6443");
    assert.equal(cfg.caPem, "DEV CA PEM");
    assert.equal(cfg.certPem, "CLIENT CERT PEM");
    assert.equal(cfg.keyPem, "CLIENT KEY PEM");
    assert.equal(cfg.insecureSkipTlsVerify, false);
    assert.equal(cfg.token, undefined);
  });
});

Deno.test("kubeconfig: a named context with a token and insecure-skip-tls-verify", async () => {
  await withKubeconfig(async (path) => {
    const cfg = await loadClientConfig("kubeConfig", { kubeConfigPath: path, context: "lab" });
    assert.equal(cfg.server, "https://lab.example.com");
    assert.equal(cfg.insecureSkipTlsVerify, true);
    assert.equal(await cfg.token!.token(), "static-token");
  });
});

Deno.test("kubeconfig: unknown contexts and exec plugins are clear errors", async () => {
  await withKubeconfig(async (path) => {
    await assert.rejects(kubeConfigConfig(path, "prod"), /no context named "prod"/);
    await assert.rejects(kubeConfigConfig(path, "sso"), /exec or auth-provider plugin/);
  });
  await assert.rejects(kubeConfigConfig("/nonexistent/kubeconfig"), /cannot read \/nonexistent/);
});

Deno.test("in-cluster: needs the service env and the mounted token and CA", async () => {
  const dir = await Deno.makeTempDir();
  const saved = ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"].map((k) => Deno.env.get(k));
  try {
    Deno.env.delete("KUBERNETES_SERVICE_HOST");
    await assert.rejects(inClusterConfig(dir), /needs KUBERNETES_SERVICE_HOST/);
    Deno.env.set("KUBERNETES_SERVICE_HOST", "fd00::1");
    Deno.env.set("KUBERNETES_SERVICE_PORT", "443");
    await assert.rejects(inClusterConfig(dir), /cannot read the service account token and CA/);
    await Deno.writeTextFile(`${dir}/ca.crt`, "CLUSTER CA");
    await Deno.writeTextFile(`${dir}/token`, "sa-token\n");
    const cfg = await inClusterConfig(dir);
    assert.equal(cfg.server, "https://[fd00::1]:443");
    assert.equal(cfg.caPem, "CLUSTER CA");
    assert.equal(await cfg.token!.token(), "sa-token");
  } finally {
    ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"].forEach((k, i) =>
      saved[i] === undefined ? Deno.env.delete(k) : Deno.env.set(k, saved[i]!)
    );
    await Deno.remove(dir, { recursive: true });
  }
});
