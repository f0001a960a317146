/**
 * Checks a config's needs against the Deno permissions this process runs with, so a missing
 * permission fails at start with the config key that needs it instead of on first use.
 *
 * @module
 */

import type { Need } from "./needs.ts";

/** The descriptor Deno.permissions takes for one need. */
function descriptor(need: Need): Deno.PermissionDescriptor {
  switch (need.kind) {
    case "read":
    case "write":
      return { name: need.kind, path: need.value };
    case "net":
      return { name: "net", host: need.value };
    case "env":
      return { name: "env", variable: need.value };
    case "sys":
      return { name: "sys", kind: need.value as Deno.SysPermissionDescriptor["kind"] };
  }
}

/** The required needs this process has no permission for (queried, never requested). */
export function missingPermissions(needs: readonly Need[]): Need[] {
  return needs.filter((n) =>
    !n.optional && Deno.permissions.querySync(descriptor(n)).state !== "granted"
  );
}

/** One line per missing permission (the config key and the flag it needs), then what to do. */
export function formatMissing(missing: readonly Need[]): string[] {
  if (missing.length === 0) return [];
  return [
    ...missing.map((n) =>
      `${n.key} needs --allow-${n.kind}=${n.value}, which this process does not have`
    ),
    "Run with the flags that `otelcol-deno permissions --config …` prints, or a binary built " +
    "with them (deno task compile:agent, compile:gateway, compile:audit)",
  ];
}

/**
 * The Deno permissions in force, per kind: `all` (a blanket grant) or `restricted` (an
 * allow-list or nothing: Deno does not tell the two apart from inside).
 */
export function permissionsInForce(): Record<string, "all" | "restricted"> {
  const out: Record<string, "all" | "restricted"> = {};
  for (const name of ["read", "write", "net", "env", "sys", "run", "ffi"] as const) {
    out[name] = Deno.permissions.querySync({ name }).state === "granted" ? "all" : "restricted";
  }
  return out;
}
