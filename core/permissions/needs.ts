/**
 * What a configuration needs from Deno's permission system: the paths it reads and writes,
 * the hosts it listens on or connects to, the environment variables and system information
 * it reads — each with the config key that needs it. `otelcol-deno permissions` prints these
 * as `--allow-*` flags; at start the collector checks them against the permissions in force.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import type { EnvLookup } from "../config/expand.ts";
import { loadConfig } from "../config/load.ts";
import { ConfigIssues } from "../config/reader.ts";
import { type Need, NeedsBuilder } from "./builder.ts";
import { componentNeeds } from "./components.ts";

export type { Need, PermissionKind } from "./builder.ts";

/** Everything a config needs, and what could not be determined. */
export interface NeedsResult {
  readonly needs: readonly Need[];
  /** Things the caller must add by hand (unset variables, unknown components). */
  readonly problems: readonly string[];
}

/** Where the config comes from (the same sources the collector reads). */
export interface NeedsSources {
  readonly uris: readonly string[];
  readonly sets?: readonly string[];
  readonly env: EnvLookup;
}

/** Variables npm:yaml (LOG_*) and npm:@grpc/grpc-js (GRPC_*) read whatever the config. */
const LIBRARY_ENV = [
  "LOG_TOKENS",
  "LOG_STREAM",
  "GRPC_NODE_VERBOSITY",
  "GRPC_VERBOSITY",
  "GRPC_NODE_TRACE",
  "GRPC_TRACE",
  "GRPC_NODE_USE_ALTERNATIVE_RESOLVER",
  "GRPC_EXPERIMENTAL_ENABLE_OUTLIER_DETECTION",
  "GRPC_SSL_CIPHER_SUITES",
  "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
  "GRPC_NODE_DEBUG_SEND_ERROR_DETAILS",
];

/** The process' own needs: the privilege posture line, and what libraries read at load. */
function processNeeds(b: NeedsBuilder): void {
  // /proc/self/status (CapEff) and mountinfo (read-only root) are left out: Deno lets only
  // --allow-all read /proc, so the posture line says "unknown" under allow-lists.
  b.add("sys", "uid", "(privilege posture at start)", true);
  b.add("sys", "gid", "(privilege posture at start)", true);
  // Libraries' debugging and tuning switches, read when they load or parse.
  for (const name of LIBRARY_ENV) b.add("env", name, "(read by a library at load)");
}

/** Keeps the first of each kind+value, and drops paths inside another path of the kind. */
export function minimize(needs: readonly Need[]): Need[] {
  const seen = new Map<string, Need>();
  // A required need wins over an optional one for the same value.
  for (const n of needs) {
    const prev = seen.get(`${n.kind} ${n.value}`);
    if (prev === undefined || (prev.optional && !n.optional)) seen.set(`${n.kind} ${n.value}`, n);
  }
  const list = [...seen.values()];
  const inside = (n: Need) =>
    (n.kind === "read" || n.kind === "write") &&
    list.some((o) => o !== n && o.kind === n.kind && n.value.startsWith(o.value + "/"));
  return list.filter((n) => !inside(n)).sort((a, b) =>
    a.kind === b.kind ? a.value.localeCompare(b.value) : a.kind.localeCompare(b.kind)
  );
}

/** Loads the config from `sources` and lists every permission it needs. */
export async function permissionNeeds(sources: NeedsSources): Promise<NeedsResult> {
  const referenced = new Set<string>();
  const env: EnvLookup = (name) => {
    referenced.add(name);
    return sources.env(name);
  };
  const issues = new ConfigIssues();
  const root = await loadConfig(sources.uris, sources.sets ?? [], { env }, issues);
  const b = new NeedsBuilder(sources.env);
  for (const uri of sources.uris) {
    const m = /^([a-z]+):(.*)$/s.exec(uri);
    if (m === null || m[1] === "file") b.read(dirname(resolve(m?.[2] ?? uri)), "--config");
    else if (m[1] === "env") b.add("env", m[2]!, "--config");
  }
  for (const e of issues.errors) b.problems.push(`config: ${e.message}`);
  processNeeds(b);
  componentNeeds(root, b);
  for (const name of referenced) b.add("env", name, "${env:" + name + "}");
  return { needs: minimize(b.needs), problems: b.problems };
}

/** The `--allow-*` flags for `needs`, one per permission kind used, in a fixed order. */
export function formatFlags(needs: readonly Need[]): string[] {
  const out: string[] = [];
  for (const kind of ["read", "write", "net", "env", "sys"] as const) {
    const values = [...new Set(needs.filter((n) => n.kind === kind).map((n) => n.value))];
    if (values.length > 0) out.push(`--allow-${kind}=${values.join(",")}`);
  }
  return out;
}
