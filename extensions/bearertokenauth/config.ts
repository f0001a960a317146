/**
 * Config of the `bearertokenauth` extension, as upstream's contrib extension: `header`
 * (Authorization), `scheme` (Bearer), and the token as `token`, `tokens` or `filename`.
 * Clients send the first token; servers accept any of them.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";

/** Typed config of one `bearertokenauth` instance. */
export interface BearerTokenAuthConfig {
  /** The request header the credential goes into. @default "Authorization" */
  readonly header: string;
  /** Put before the token, with a space; "" sends the token alone. @default "Bearer" */
  readonly scheme: string;
  /** `token`, or `tokens`; empty with `filename`. Clients send the first, servers accept any. */
  readonly tokens: readonly string[];
  /** A file holding the tokens (one a line), re-read when it changes; wins over `token(s)`. */
  readonly filename: string;
}

/** Reads the extension's section; problems go to the reader with their paths. */
export function parseBearerTokenAuthConfig(r: ConfigReader): BearerTokenAuthConfig {
  const header = r.string("header", "Authorization");
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    r.error("header", `Invalid header name ${JSON.stringify(header)}`);
  }
  const scheme = r.string("scheme", "Bearer");
  const token = r.string("token", "");
  const tokens = r.stringList("tokens");
  const filename = r.string("filename", "");
  if (token === "" && tokens.length === 0 && filename === "") {
    r.error(undefined, 'No bearer token provided: set "token", "tokens" or "filename"');
  }
  if (token !== "" && tokens.length > 0) {
    r.error("tokens", 'Either "tokens" or "token" should be provided, not both');
  }
  if (filename !== "" && (token !== "" || tokens.length > 0)) {
    r.warn(token !== "" ? "token" : "tokens", 'Ignored: "filename" is set and wins, as upstream');
  }
  const values: [string, string][] = [["token", token], ["scheme", scheme]];
  tokens.forEach((t, i) => {
    if (t.trim() === "") {
      r.error(`tokens::${i}`, "Must not be empty: it would accept a bare scheme");
    }
    values.push([`tokens::${i}`, t]);
  });
  for (const [key, value] of values) {
    if (/[\r\n]/.test(value)) {
      r.error(key, "Must be one line: a header value cannot hold a newline");
    }
  }
  return {
    header,
    scheme,
    tokens: filename !== "" ? [] : token !== "" ? [token] : tokens,
    filename,
  };
}
