/**
 * Where the Kubernetes API is and how to authenticate to it, as upstream's `auth_type`:
 * `serviceAccount` (in-cluster), `kubeConfig` (a kubeconfig file, current or named context)
 * and `none`.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";

/** Upstream's `auth_type` values this client supports. */
export type AuthType = "serviceAccount" | "kubeConfig" | "none";

/** Where the in-cluster credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** A bearer token that can change while the process runs (a projected token rotates). */
export interface TokenSource {
  /** The current token; re-reads its file when the file changed since the last read. */
  token(): Promise<string>;
  /** Forgets the cached token so the next call reads the file (after a 401). */
  invalidate(): void;
}

/** Everything needed to reach one API server. */
export interface KubeClientConfig {
  /** Base URL, e.g. `https://10.96.0.1:443`. */
  server: string;
  token?: TokenSource;
  /** PEM of the CA that signed the API server's certificate. */
  caPem?: string;
  /** PEM client certificate and key (kubeconfig users with certificates). */
  certPem?: string;
  keyPem?: string;
  /** Do not verify the server's certificate (`insecure-skip-tls-verify`, `auth_type: none`). */
  insecureSkipTlsVerify: boolean;
  /** Where the credentials came from, for error messages. */
  describe: string;
}

/** A token read from a file, re-read when the file's modification time or size changes. */
export function fileTokenSource(path: string): TokenSource {
  let cached: string | undefined;
  let stamp = "";
  return {
    async token(): Promise<string> {
      const st = await Deno.stat(path);
      const now = `${st.mtime?.getTime() ?? 0}:${st.size}:${st.ino ?? 0}`;
      if (cached === undefined || now !== stamp) {
        cached = (await Deno.readTextFile(path)).trim();
        stamp = now;
      }
      return cached;
    },
    invalidate(): void {
      cached = undefined;
    },
  };
}

/** A token that never changes. */
export function staticTokenSource(value: string): TokenSource {
  return { token: () => Promise.resolve(value), invalidate: () => {} };
}

function hostPort(host: string, port: string): string {
  return `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** In-cluster config from the service account mount and `KUBERNETES_SERVICE_HOST`/`PORT`. */
export async function inClusterConfig(dir = SERVICE_ACCOUNT_DIR): Promise<KubeClientConfig> {
  const host = Deno.env.get("KUBERNETES_SERVICE_HOST");
  const port = Deno.env.get("KUBERNETES_SERVICE_PORT");
  if (!host || !port) {
    throw new Error(
      'auth_type "serviceAccount" needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, ' +
        "which Kubernetes sets in every pod: run inside the cluster, or use " +
        'auth_type "kubeConfig"',
    );
  }
  let caPem: string;
  try {
    caPem = await Deno.readTextFile(`${dir}/ca.crt`);
    await Deno.stat(`${dir}/token`);
  } catch (err) {
    throw new Error(
      `auth_type "serviceAccount": cannot read the service account token and CA in ${dir} ` +
        `(${err instanceof Error ? err.message : err}); is automountServiceAccountToken off?`,
      { cause: err },
    );
  }
  return {
    server: hostPort(host, port),
    token: fileTokenSource(`${dir}/token`),
    caPem,
    insecureSkipTlsVerify: false,
    describe: `the service account token in ${dir}`,
  };
}

/** `auth_type: none`: no credentials, the certificate is not verified, as upstream. */
export function noAuthConfig(): KubeClientConfig {
  const host = Deno.env.get("KUBERNETES_SERVICE_HOST");
  const port = Deno.env.get("KUBERNETES_SERVICE_PORT");
  if (!host || !port) {
    throw new Error(
      'auth_type "none" needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT to find the API server',
    );
  }
  return { server: hostPort(host, port), insecureSkipTlsVerify: true, describe: "no credentials" };
}

type Dict = Record<string, unknown>;

function named(list: unknown, name: string, what: string, file: string): Dict {
  const found = Array.isArray(list)
    ? (list as Dict[]).find((e) => e && typeof e === "object" && e.name === name)
    : undefined;
  if (found === undefined) throw new Error(`${file}: no ${what} named "${name}"`);
  return (found[what] ?? {}) as Dict;
}

async function dataOrFile(
  entry: Dict,
  key: string,
  baseDir: string,
): Promise<string | undefined> {
  const data = entry[`${key}-data`];
  if (typeof data === "string" && data !== "") {
    return new TextDecoder().decode(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
  }
  const file = entry[key];
  if (typeof file === "string" && file !== "") {
    return await Deno.readTextFile(file.startsWith("/") ? file : `${baseDir}/${file}`);
  }
  return undefined;
}

/** The kubeconfig path: `$KUBECONFIG` (first entry) or `~/.kube/config`. */
export function defaultKubeConfigPath(): string {
  const env = Deno.env.get("KUBECONFIG");
  if (env) return env.split(":")[0]!;
  return `${Deno.env.get("HOME") ?? ""}/.kube/config`;
}

/**
 * Reads a kubeconfig: the named context (or `current-context`), its cluster (server, CA,
 * `insecure-skip-tls-verify`) and user (token, token file, client certificate and key).
 */
export async function kubeConfigConfig(
  path = defaultKubeConfigPath(),
  context = "",
): Promise<KubeClientConfig> {
  let doc: Dict;
  try {
    doc = (parseYaml(await Deno.readTextFile(path)) ?? {}) as Dict;
  } catch (err) {
    throw new Error(
      `auth_type "kubeConfig": cannot read ${path} (${
        err instanceof Error ? err.message : err
      }); set KUBECONFIG or use auth_type "serviceAccount" inside the cluster`,
      { cause: err },
    );
  }
  const ctxName = context !== "" ? context : String(doc["current-context"] ?? "");
  if (ctxName === "") {
    throw new Error(`${path}: no current-context; set "context" in the processor's config`);
  }
  const ctx = named(doc.contexts, ctxName, "context", path);
  const cluster = named(doc.clusters, String(ctx.cluster ?? ""), "cluster", path);
  const user = ctx.user === undefined ? {} : named(doc.users, String(ctx.user), "user", path);
  const baseDir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  const server = String(cluster.server ?? "").replace(/\/+$/, "");
  if (server === "") throw new Error(`${path}: cluster of context "${ctxName}" has no server`);
  const cfg: KubeClientConfig = {
    server,
    caPem: await dataOrFile(cluster, "certificate-authority", baseDir),
    certPem: await dataOrFile(user, "client-certificate", baseDir),
    keyPem: await dataOrFile(user, "client-key", baseDir),
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    describe: `context "${ctxName}" of ${path}`,
  };
  if (typeof user.token === "string" && user.token !== "") {
    cfg.token = staticTokenSource(user.token);
  } else if (typeof user.tokenFile === "string" && user.tokenFile !== "") {
    cfg.token = fileTokenSource(user.tokenFile);
  } else if (user.exec !== undefined || user["auth-provider"] !== undefined) {
    throw new Error(
      `${path}: user of context "${ctxName}" authenticates with an exec or auth-provider plugin, ` +
        "which this client does not run; use a token, a token file or a client certificate",
    );
  }
  return cfg;
}

/** Builds the client config for `auth_type`. */
export function loadClientConfig(
  authType: AuthType,
  options: { context?: string; kubeConfigPath?: string; serviceAccountDir?: string } = {},
): Promise<KubeClientConfig> {
  switch (authType) {
    case "serviceAccount":
      return inClusterConfig(options.serviceAccountDir);
    case "kubeConfig":
      return kubeConfigConfig(options.kubeConfigPath, options.context);
    case "none":
      return Promise.resolve(noAuthConfig());
  }
}
