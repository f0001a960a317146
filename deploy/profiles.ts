/**
 * The deployment profiles: each workload's binary bakes exactly the Deno permissions its
 * shipped config needs (computed by the `permissions` command's logic), with the variables
 * its manifest sets. `deploy/compile.ts` builds them; the tests run `mod.ts` with the same
 * flags.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { formatFlags, minimize, type Need, permissionNeeds } from "../core/permissions/mod.ts";

/** Where the manifests mount the config (a ConfigMap). */
export const CONFIG_DIR = "/etc/otelcol-deno";

/** One profile: its config in this repository and the variables the manifest gives it. */
export interface Profile {
  /** Relative to the repository root. */
  readonly config: string;
  /** Values the manifest sets; build arguments (`NAME=value`) override them. */
  readonly env: Readonly<Record<string, string>>;
}

const KUBERNETES_API = {
  KUBERNETES_SERVICE_HOST: "kubernetes.default.svc",
  KUBERNETES_SERVICE_PORT: "443",
};

/** The profiles, by name (`compile:<name>` in deno.json). */
export const PROFILES: Readonly<Record<string, Profile>> = {
  agent: {
    config: "deploy/kubernetes/agent/agent.yaml",
    env: { GATEWAY_ENDPOINT: "http://otelcol-deno-gateway:4318", ...KUBERNETES_API },
  },
  gateway: {
    config: "deploy/kubernetes/gateway/gateway.yaml",
    env: { BACKEND_ENDPOINT: "https://otlp.example.com", ...KUBERNETES_API },
  },
  audit: {
    config: "deploy/kubernetes/audit/audit.yaml",
    env: { BACKEND_ENDPOINT: "https://otlp.example.com" },
  },
};

/** Absolute path of a file in the repository. */
export function repoFile(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/**
 * The `--allow-*` flags of a profile, its config read from {@linkcode CONFIG_DIR} as
 * deployed; `overrides` replace the manifest's variables (e.g. the backend's endpoint).
 */
export async function profileFlags(
  name: string,
  overrides: Readonly<Record<string, string>> = {},
): Promise<{ flags: string[]; needs: Need[]; problems: readonly string[] }> {
  const profile = PROFILES[name];
  if (profile === undefined) {
    throw new Error(`Unknown profile "${name}": one of ${Object.keys(PROFILES).join(", ")}`);
  }
  const env: Record<string, string> = { ...profile.env, ...overrides };
  const result = await permissionNeeds({
    uris: [repoFile(profile.config)],
    env: (v) => env[v],
  });
  const needs = minimize([
    ...result.needs.filter((n) => n.key !== "--config"),
    { kind: "read", value: CONFIG_DIR, key: "--config" },
  ]);
  return { flags: formatFlags(needs), needs, problems: result.problems };
}
