/**
 * The building blocks of the permission rules: one need, the collector of needs, and
 * readers for the loaded config tree.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import type { EnvLookup } from "../config/expand.ts";
import type { ConfigNode } from "../config/node.ts";

/** The Deno permissions a config can need. */
export type PermissionKind = "read" | "write" | "net" | "env" | "sys";

/** One permission and the config key that needs it. */
export interface Need {
  readonly kind: PermissionKind;
  /** A path, `host:port`, a variable name or a `--allow-sys` kind. */
  readonly value: string;
  /** Where it comes from, e.g. `receivers::filelog::include`. */
  readonly key: string;
  /** Only improves messages: printed among the flags, not required at start. */
  readonly optional?: boolean;
}

/** Collects needs for one component or section; helpers shared by the rules. */
export class NeedsBuilder {
  readonly needs: Need[] = [];
  readonly problems: string[] = [];
  readonly env: EnvLookup;

  /** Starts an empty collection reading variables through `env`. */
  constructor(env: EnvLookup) {
    this.env = env;
  }

  /** Records one need. */
  add(kind: PermissionKind, value: string, key: string, optional = false): void {
    this.needs.push(optional ? { kind, value, key, optional } : { kind, value, key });
  }

  /** Records a path to read (made absolute). */
  read(path: string, key: string, optional = false): void {
    this.add("read", resolve(path), key, optional);
  }

  /** Records a path to read and write (made absolute). */
  readWrite(path: string, key: string): void {
    this.read(path, key);
    this.add("write", resolve(path), key);
  }

  /** Records a `host:port` from a URL (default port by scheme); a problem when it is not one. */
  url(text: string, key: string): void {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      this.problems.push(`${key}: cannot tell the host from "${text}" (is a variable unset?)`);
      return;
    }
    const port = url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80";
    this.add("net", `${url.hostname}:${port}`, key);
  }

  /** Records a listening or dialing `host:port` as written in an `endpoint` key. */
  endpoint(text: string, key: string): void {
    const colon = text.lastIndexOf(":");
    if (colon <= 0 || !/^\d+$/.test(text.slice(colon + 1))) {
      this.problems.push(`${key}: "${text}" is not host:port`);
      return;
    }
    this.add("net", text, key);
  }
}

/** Reads a scalar at `path` under `node` as a string; undefined when absent. */
export function str(node: ConfigNode | undefined, ...path: string[]): string | undefined {
  const n = at(node, ...path);
  return n?.type === "scalar" && n.value !== null ? String(n.value) : undefined;
}

/** The node at `path` under `node`. */
export function at(node: ConfigNode | undefined, ...path: string[]): ConfigNode | undefined {
  let n = node;
  for (const p of path) {
    if (n?.type === "map") n = n.entries.get(p)?.node;
    else if (n?.type === "seq" && /^\d+$/.test(p)) n = n.items[Number(p)];
    else return undefined;
  }
  return n;
}

/** The entries of a map node, in order. */
export function entries(node: ConfigNode | undefined): [string, ConfigNode][] {
  return node?.type === "map" ? [...node.entries].map(([k, e]) => [k, e.node]) : [];
}

/** The directory a file glob starts from: its segments before the first with a wildcard. */
export function globBase(pattern: string): string {
  const parts = resolve(pattern).split("/");
  const i = parts.findIndex((p) => /[*?[\]{}]/.test(p));
  // A plain file: its directory (rotated siblings are read too).
  return i < 0 ? dirname(resolve(pattern)) : parts.slice(0, i).join("/") || "/";
}
