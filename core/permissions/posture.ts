/**
 * The privilege posture the collector logs once at start: who it runs as, the effective
 * Linux capabilities, whether the root filesystem is writable, and the Deno permissions in
 * force — with a warning when it has more privilege than it needs (it needs none).
 *
 * @module
 */

import { permissionsInForce } from "./check.ts";

/** What the process runs with. `undefined` where it may not look (no permission). */
export interface Posture {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  /** CapEff from /proc/self/status, as hex. */
  readonly capEff: string | undefined;
  readonly rootFsWritable: boolean | undefined;
  readonly deno: Readonly<Record<string, string>>;
}

/** Linux capability names by bit, for the warning (the ones a log agent is given most). */
const CAPABILITIES: Record<number, string> = {
  0: "CAP_CHOWN",
  1: "CAP_DAC_OVERRIDE",
  2: "CAP_DAC_READ_SEARCH",
  3: "CAP_FOWNER",
  4: "CAP_FSETID",
  5: "CAP_KILL",
  6: "CAP_SETGID",
  7: "CAP_SETUID",
  8: "CAP_SETPCAP",
  10: "CAP_NET_BIND_SERVICE",
  12: "CAP_NET_ADMIN",
  13: "CAP_NET_RAW",
  18: "CAP_SYS_CHROOT",
  19: "CAP_SYS_PTRACE",
  21: "CAP_SYS_ADMIN",
  27: "CAP_MKNOD",
  29: "CAP_AUDIT_WRITE",
  31: "CAP_SETFCAP",
};

/** What the posture says where Deno does not let it look. */
const UNREADABLE = "unknown (Deno lets only --allow-all read /proc)";

function tryRead(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function trySys<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Whether "/" is mounted read-write, from a /proc/self/mountinfo text. */
export function rootWritable(mountinfo: string): boolean | undefined {
  let result: boolean | undefined;
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ");
    // id parent major:minor root mount-point options ...; the last "/" mount is in force.
    if (f[4] === "/") result = f[5]!.split(",").includes("rw");
  }
  return result;
}

/** The capability names set in a CapEff hex mask. */
export function capabilityNames(capEff: string): string[] {
  const mask = BigInt("0x" + capEff);
  const out: string[] = [];
  for (let bit = 0n; bit < 64n; bit++) {
    if ((mask >> bit) & 1n) out.push(CAPABILITIES[Number(bit)] ?? `cap_${bit}`);
  }
  return out;
}

/** Looks at this process' privileges. */
export function readPosture(): Posture {
  const status = tryRead("/proc/self/status");
  const mountinfo = tryRead("/proc/self/mountinfo");
  return {
    uid: trySys(() => Deno.uid() ?? undefined),
    gid: trySys(() => Deno.gid() ?? undefined),
    capEff: status === undefined ? undefined : /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1],
    rootFsWritable: mountinfo === undefined ? undefined : rootWritable(mountinfo),
    deno: permissionsInForce(),
  };
}

/** The posture as log fields, and the warnings it deserves. */
export function describePosture(
  p: Posture,
): { fields: Record<string, unknown>; warnings: string[] } {
  const caps = p.capEff === undefined ? undefined : capabilityNames(p.capEff);
  const fields = {
    uid: p.uid ?? "unknown",
    gid: p.gid ?? "unknown",
    capEff: p.capEff === undefined
      ? UNREADABLE
      : `0x${p.capEff}${caps!.length ? ` (${caps!.join(",")})` : ""}`,
    rootFsWritable: p.rootFsWritable ?? UNREADABLE,
    deno: Object.entries(p.deno).map(([k, v]) => `${k}=${v}`).join(" "),
  };
  const warnings: string[] = [];
  if (p.uid === 0) {
    warnings.push(
      "Running as root: otelcol-deno needs no root user; run it as uid 1000 with group 0 " +
        "(runAsUser: 1000, runAsGroup: 0) to read /var/log/pods",
    );
  }
  if (caps !== undefined && caps.length > 0) {
    warnings.push(
      `Running with capabilities it does not need (${caps.join(", ")}): ` +
        "drop them all (securityContext.capabilities.drop: [ALL])",
    );
  }
  return { fields, warnings };
}
