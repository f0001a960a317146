/**
 * CORS as upstream's confighttp sets it up (rs/cors with credentials allowed): preflight
 * requests are answered here with 204, other requests get the allow headers when their origin
 * is allowed and go on to the handler either way (the browser enforces the answer).
 *
 * @module
 */

import type { CorsConfig } from "./config.ts";

const DEFAULT_ALLOWED_HEADERS = ["origin", "accept", "content-type", "x-requested-with"];
const ALLOWED_METHODS = ["GET", "POST", "HEAD"];

/** Applies one `cors` config to requests. */
export class Cors {
  readonly #origins: RegExp[];
  readonly #anyHeader: boolean;
  readonly #headers: Set<string>;
  readonly #config: CorsConfig;

  /** Compiles the origin patterns (`*` matches any run of characters). */
  constructor(config: CorsConfig) {
    this.#config = config;
    this.#origins = config.allowedOrigins.map((o) =>
      new RegExp(
        "^" + o.toLowerCase().split("*").map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
          .join(".*") +
          "$",
      )
    );
    const headers = config.allowedHeaders.map((h) => h.toLowerCase());
    this.#anyHeader = headers.includes("*");
    this.#headers = new Set([...DEFAULT_ALLOWED_HEADERS, ...headers]);
  }

  /** True when CORS is on (upstream ignores a config without origins). */
  get enabled(): boolean {
    return this.#origins.length > 0;
  }

  #originAllowed(origin: string): boolean {
    const o = origin.toLowerCase();
    return this.#origins.some((re) => re.test(o));
  }

  /** The answer to a preflight request, or undefined when `req` is not one. */
  preflight(req: Request): Response | undefined {
    const method = req.headers.get("access-control-request-method");
    if (req.method !== "OPTIONS" || method === null) return undefined;
    const headers = new Headers({
      vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    });
    const origin = req.headers.get("origin");
    const requested = (req.headers.get("access-control-request-headers") ?? "").split(",")
      .map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
    const ok = origin !== null && this.#originAllowed(origin) &&
      ALLOWED_METHODS.includes(method.toUpperCase()) &&
      (this.#anyHeader || requested.every((h) => this.#headers.has(h)));
    if (ok) {
      headers.set("access-control-allow-origin", origin);
      headers.set("access-control-allow-methods", method.toUpperCase());
      if (requested.length > 0) headers.set("access-control-allow-headers", requested.join(", "));
      headers.set("access-control-allow-credentials", "true");
      if (this.#config.maxAge > 0) headers.set("access-control-max-age", `${this.#config.maxAge}`);
    }
    return new Response(null, { status: 204, headers });
  }

  /** Adds the CORS headers an actual (non-preflight) request's answer needs. */
  decorate(req: Request, res: Response): void {
    const origin = req.headers.get("origin");
    if (origin === null) return;
    res.headers.append("vary", "Origin");
    if (!this.#originAllowed(origin) || !ALLOWED_METHODS.includes(req.method)) return;
    res.headers.set("access-control-allow-origin", origin);
    res.headers.set("access-control-allow-credentials", "true");
    if (this.#config.exposedHeaders.length > 0) {
      res.headers.set("access-control-expose-headers", this.#config.exposedHeaders.join(", "));
    }
  }
}
