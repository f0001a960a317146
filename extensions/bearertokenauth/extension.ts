/**
 * The `bearertokenauth` extension. Client side: every request of an exporter whose
 * `auth::authenticator` names it carries `<header>: <scheme> <token>` (the first token).
 * Server side: a receiver whose `auth::authenticator` names it lets a request in only when
 * the first value of `<header>` is `<scheme> <token>` for any of the tokens, compared in
 * constant time ({@linkcode TokenSet}).
 *
 * With `filename`, the tokens are the file's non-empty lines (surrounding white space
 * trimmed). One check for changes serves both sides: the file is looked at at most once per
 * second while requests are made or checked (its identity, size and mtime), so a rotated
 * Kubernetes Secret, whose files are swapped by symlink, is picked up without a restart and
 * an idle collector does no work. A file that cannot be read at start fails start; one that
 * becomes unreadable later leaves the last tokens in use, with a warning.
 *
 * @module
 */

import type { ClientAuthenticator, RequestHeaders, ServerAuthenticator } from "../../core/auth.ts";
import type { CreateSettings } from "../../core/component.ts";
import type { Logger } from "../../core/telemetry/logger.ts";
import type { BearerTokenAuthConfig } from "./config.ts";
import { type DigestEqual, TokenSet } from "./token_set.ts";

/** How often (ms) the token file is checked for changes, at most. */
export const FILE_CHECK_INTERVAL_MS = 1000;

/** The file version noted while the token file cannot be read (warned about once). */
const UNREADABLE = "unreadable";

/** What identifies one version of the token file. */
function fileVersion(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`;
}

/** Reads the tokens: the file's non-empty lines, trimmed. */
async function readTokens(filename: string): Promise<string[]> {
  const text = await Deno.readTextFile(filename);
  return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
}

/** What upstream's server side attaches to the request: nothing beyond "authenticated". */
const IDENTITY: Readonly<Record<string, unknown>> = Object.freeze({});

/** A `bearertokenauth` instance: client and server authenticator. */
export class BearerTokenAuth implements ClientAuthenticator, ServerAuthenticator {
  readonly #cfg: BearerTokenAuthConfig;
  readonly #logger: Logger;
  readonly #checkIntervalMs: number;
  readonly #header: string;
  readonly #digestEqual: DigestEqual | undefined;
  #tokens: readonly string[];
  #accepted: TokenSet;
  #version = "";
  #checkedAt = -Infinity;
  #checking: Promise<void> | undefined;

  /** Builds the extension; `checkIntervalMs` and `digestEqual` are for tests. */
  constructor(
    settings: CreateSettings,
    config: BearerTokenAuthConfig,
    checkIntervalMs = FILE_CHECK_INTERVAL_MS,
    digestEqual?: DigestEqual,
  ) {
    this.#cfg = config;
    this.#logger = settings.logger;
    this.#checkIntervalMs = checkIntervalMs;
    this.#header = config.header.toLowerCase();
    this.#digestEqual = digestEqual;
    this.#tokens = config.tokens;
    this.#accepted = this.#acceptedValues(config.tokens);
  }

  async start(): Promise<void> {
    const file = this.#cfg.filename;
    if (file === "") return;
    try {
      this.#version = fileVersion(await Deno.stat(file));
      this.#setTokens(await readTokens(file));
    } catch (err) {
      throw new Error(
        `Cannot read the bearer token file ${JSON.stringify(file)} (filename): ${
          err instanceof Error ? err.message : err
        }`,
        { cause: err },
      );
    }
    if (this.#tokens.length === 0) this.#logger.warn("The bearer token file is empty", { file });
    this.#checkedAt = performance.now();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  async getRequestHeaders(): Promise<Record<string, string>> {
    await this.#maybeReload();
    return { [this.#header]: this.#headerValue(this.#tokens[0] ?? "") };
  }

  async authenticate(headers: RequestHeaders): Promise<Readonly<Record<string, unknown>>> {
    await this.#maybeReload();
    const presented = headers.get(this.#header)?.[0];
    if (presented === undefined || presented === "") {
      throw new Error(`Missing or empty ${this.#cfg.header} header`);
    }
    if (!this.#accepted.has(presented)) {
      throw new Error(`The ${this.#cfg.header} header does not match the expected scheme or token`);
    }
    return IDENTITY;
  }

  #headerValue(token: string): string {
    return this.#cfg.scheme === "" ? token : `${this.#cfg.scheme} ${token}`;
  }

  #acceptedValues(tokens: readonly string[]): TokenSet {
    return new TokenSet(tokens.map((t) => this.#headerValue(t)), this.#digestEqual);
  }

  #setTokens(tokens: readonly string[]): void {
    this.#tokens = tokens;
    this.#accepted = this.#acceptedValues(tokens);
  }

  /** With `filename`, checks the file for changes when the last check is old enough. */
  async #maybeReload(): Promise<void> {
    if (this.#cfg.filename !== "" && performance.now() - this.#checkedAt >= this.#checkIntervalMs) {
      this.#checking ??= this.#reload().finally(() => this.#checking = undefined);
      await this.#checking;
    }
  }

  /** Re-reads the token file if it changed; keeps the last tokens when it cannot be read. */
  async #reload(): Promise<void> {
    this.#checkedAt = performance.now();
    const file = this.#cfg.filename;
    try {
      const version = fileVersion(await Deno.stat(file));
      if (version === this.#version) return;
      const tokens = await readTokens(file);
      this.#version = version;
      if (tokens.join("\n") !== this.#tokens.join("\n")) {
        this.#logger.info("Bearer token reloaded", { file });
        this.#setTokens(tokens);
      }
    } catch (err) {
      if (this.#version !== UNREADABLE) {
        this.#logger.warn("Cannot read the bearer token file; keeping the last tokens", {
          file,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      this.#version = UNREADABLE;
    }
  }
}
