/**
 * The `bearertokenauth` extension, client side: every request of an exporter whose
 * `auth::authenticator` names it carries `<header>: <scheme> <token>`.
 *
 * With `filename`, the token is the file's first line (surrounding white space trimmed). The
 * file is checked for changes at most once per second while requests are made (its identity,
 * size and mtime), so a rotated Kubernetes Secret, whose files are swapped by symlink, is
 * picked up without a restart and an idle collector does no work. A file that cannot be read
 * at start fails start; one that becomes unreadable later leaves the last token in use, with
 * a warning.
 *
 * @module
 */

import type { ClientAuthenticator } from "../../core/auth.ts";
import type { CreateSettings } from "../../core/component.ts";
import type { Logger } from "../../core/telemetry/logger.ts";
import type { BearerTokenAuthConfig } from "./config.ts";

/** How often (ms) the token file is checked for changes, at most. */
export const FILE_CHECK_INTERVAL_MS = 1000;

/** The file version noted while the token file cannot be read (warned about once). */
const UNREADABLE = "unreadable";

/** What identifies one version of the token file. */
function fileVersion(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`;
}

/** Reads the token: the file's first line, trimmed. */
async function readToken(filename: string): Promise<string> {
  const text = await Deno.readTextFile(filename);
  return text.split(/\r?\n/).find((line) => line.trim() !== "")?.trim() ?? "";
}

/** A `bearertokenauth` instance. */
export class BearerTokenAuth implements ClientAuthenticator {
  readonly #cfg: BearerTokenAuthConfig;
  readonly #logger: Logger;
  readonly #checkIntervalMs: number;
  readonly #header: string;
  #token: string;
  #version = "";
  #checkedAt = -Infinity;
  #checking: Promise<void> | undefined;

  /** Builds the extension; `checkIntervalMs` is for tests. */
  constructor(
    settings: CreateSettings,
    config: BearerTokenAuthConfig,
    checkIntervalMs = FILE_CHECK_INTERVAL_MS,
  ) {
    this.#cfg = config;
    this.#logger = settings.logger;
    this.#checkIntervalMs = checkIntervalMs;
    this.#header = config.header.toLowerCase();
    this.#token = config.token;
  }

  async start(): Promise<void> {
    const file = this.#cfg.filename;
    if (file === "") return;
    try {
      this.#version = fileVersion(await Deno.stat(file));
      this.#token = await readToken(file);
    } catch (err) {
      throw new Error(
        `Cannot read the bearer token file ${JSON.stringify(file)} (filename): ${
          err instanceof Error ? err.message : err
        }`,
        { cause: err },
      );
    }
    if (this.#token === "") this.#logger.warn("The bearer token file is empty", { file });
    this.#checkedAt = performance.now();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  async getRequestHeaders(): Promise<Record<string, string>> {
    if (this.#cfg.filename !== "" && performance.now() - this.#checkedAt >= this.#checkIntervalMs) {
      this.#checking ??= this.#reload().finally(() => this.#checking = undefined);
      await this.#checking;
    }
    const scheme = this.#cfg.scheme;
    return { [this.#header]: scheme === "" ? this.#token : `${scheme} ${this.#token}` };
  }

  /** Re-reads the token file if it changed; keeps the last token when it cannot be read. */
  async #reload(): Promise<void> {
    this.#checkedAt = performance.now();
    const file = this.#cfg.filename;
    try {
      const version = fileVersion(await Deno.stat(file));
      if (version === this.#version) return;
      const token = await readToken(file);
      this.#version = version;
      if (token !== this.#token) this.#logger.info("Bearer token reloaded", { file });
      this.#token = token;
    } catch (err) {
      if (this.#version !== UNREADABLE) {
        this.#logger.warn("Cannot read the bearer token file; keeping the last token", {
          file,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      this.#version = UNREADABLE;
    }
  }
}
