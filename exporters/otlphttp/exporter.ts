/**
 * One OTLP/HTTP send attempt: encode (protobuf or JSON) and compress once per batch, POST, and turn the answer
 * into success, a partial success, a retryable error (429/502/503/504, network errors,
 * timeouts; with `Retry-After`) or a permanent one (every other 4xx/5xx, with the message of
 * the google.rpc.Status body). Queue, retries and metrics come from core/exporterhelper.
 *
 * @module
 */

import type { CreateSettings, Host } from "../../core/component.ts";
import { type ClientInfo, PermanentError, RetryableError } from "../../core/consumer.ts";
import { type ClientAuthenticator, getClientAuthenticator } from "../../core/auth.ts";
import type { LogsSender, SendResult } from "../../core/exporterhelper/logs_exporter.ts";
import { errorMessage, parseRetryAfter } from "../../core/exporterhelper/retry.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { decodeLogsResponseJson, encodeLogsRequestJson } from "../../core/pdata/otlp_json.ts";
import { encodedPieces, joinedParts } from "../../core/pdata/encoded_logs.ts";
import { decodeLogsResponse, encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import type { Logger } from "../../core/telemetry/logger.ts";
import { concatBytes, totalLength } from "../../core/bytes.ts";
import { Compressor, PART_BYTES } from "./compression.ts";
import type { OtlpHttpConfig } from "./config.ts";
import { FetchTransport } from "./fetch_transport.ts";
import { NodeTlsTransport } from "./node_tls_transport.ts";
import { type HttpAnswer, needsNodeTls, type RequestBody, type Transport } from "./transport.ts";

/** Upstream reads at most this much of a response. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

const textEncoder = new TextEncoder();

/** Go's names for CPU architectures, as upstream's User-Agent shows them. */
function goArch(arch: string): string {
  return arch === "x86_64" ? "amd64" : arch === "aarch64" ? "arm64" : arch;
}

/** `<description>/<version> (<os>/<arch>)`, as upstream's exporter sends. */
export function userAgent(settings: CreateSettings): string {
  const b = settings.buildInfo;
  return `${b.description}/${b.version} (${Deno.build.os}/${goArch(Deno.build.arch)})`;
}

/**
 * The `message` (field 2) of a protobuf google.rpc.Status, decoded by hand since only that
 * field is needed; `undefined` when the bytes are not such a message.
 */
export function statusMessage(bytes: Uint8Array): string | undefined {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length || shift > 63) throw new RangeError("truncated varint");
      const b = bytes[pos++]!;
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  let message: string | undefined;
  try {
    while (pos < bytes.length) {
      const tag = varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) return undefined;
      if (wire === 0) varint();
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const len = varint();
        if (pos + len > bytes.length) return undefined;
        if (field === 2) {
          message = new TextDecoder("utf-8", { fatal: true }).decode(
            bytes.subarray(pos, pos + len),
          );
        }
        pos += len;
      } else return undefined;
      if (pos > bytes.length) return undefined;
    }
  } catch {
    return undefined;
  }
  return message;
}

/** The human part of an error response body, per its content type. */
function errorDetail(contentType: string, body: Uint8Array): string {
  if (body.length === 0) return "";
  if (contentType === "application/x-protobuf") return statusMessage(body) ?? "";
  const text = new TextDecoder().decode(body);
  if (contentType === "application/json") {
    try {
      const m = JSON.parse(text)?.message;
      if (typeof m === "string") return m;
    } catch { /* fall through to the text */ }
  }
  return text.length > 512 ? text.slice(0, 512) + "…" : text.trim();
}

function hint(status: number): string {
  if (status === 413) {
    return " (the backend refuses requests this large: lower the batch size, e.g. batch::send_batch_max_size)";
  }
  if (status === 401 || status === 403) {
    return " (check the credentials: headers or auth::authenticator)";
  }
  if (status === 404) {
    return " (check endpoint / logs_endpoint: the path should usually end in /v1/logs)";
  }
  return "";
}

/** Sends batches to one OTLP/HTTP endpoint. */
export class OtlpHttpSender implements LogsSender {
  readonly #cfg: OtlpHttpConfig;
  readonly #logger: Logger;
  readonly #headers: Record<string, string>;
  readonly #compressor: Compressor;
  /** Each batch's request body, made once: a retry sends the same bytes again. */
  readonly #bodies = new WeakMap<Logs, Promise<RequestBody>>();
  #transport: Transport | undefined;
  #auth: ClientAuthenticator | undefined;

  /** Prepares the sender; `start` creates its transport. */
  constructor(settings: CreateSettings, cfg: OtlpHttpConfig) {
    this.#cfg = cfg;
    this.#logger = settings.logger;
    const headers: Record<string, string> = { "user-agent": userAgent(settings) };
    for (const [k, v] of Object.entries(cfg.headers)) headers[k.toLowerCase()] = v;
    headers["content-type"] = cfg.encoding === "json"
      ? "application/json"
      : "application/x-protobuf";
    if (cfg.compression !== "none") headers["content-encoding"] = cfg.compression;
    else delete headers["content-encoding"];
    this.#headers = headers;
    this.#compressor = new Compressor(cfg.compression, cfg.compressionLevel);
  }

  /** The headers every request carries (before authentication). */
  get headers(): Readonly<Record<string, string>> {
    return this.#headers;
  }

  async start(host: Host): Promise<void> {
    if (this.#cfg.authenticator !== undefined) {
      this.#auth = getClientAuthenticator(host, this.#cfg.authenticator);
    }
    const cfg = this.#cfg;
    this.#transport = cfg.logsUrl.startsWith("https:") && needsNodeTls(cfg.tls)
      ? await NodeTlsTransport.create(cfg)
      : await FetchTransport.create(cfg);
  }

  shutdown(): Promise<void> {
    this.#compressor.close();
    this.#transport?.close();
    this.#transport = undefined;
    return Promise.resolve();
  }

  /**
   * The request body of a batch: encoded, then compressed (large bodies in a worker). Made
   * once per batch; an encoding error is permanent, a failed compression is tried again.
   */
  body(logs: Logs, encoded?: Uint8Array): Promise<RequestBody> {
    let body = this.#bodies.get(logs);
    if (body === undefined) {
      body = this.#makeBody(logs, encoded);
      this.#bodies.set(logs, body);
      body.catch(() => this.#bodies.delete(logs));
    }
    return body;
  }

  async #makeBody(logs: Logs, encoded: Uint8Array | undefined): Promise<RequestBody> {
    const url = this.#cfg.logsUrl;
    const encodeError = (err: unknown) =>
      new PermanentError(`Cannot encode the batch for ${url}: ${errorMessage(err)}`, {
        cause: err,
      });
    let parts: Iterable<Uint8Array>;
    try {
      parts = this.#cfg.encoding === "json"
        ? [textEncoder.encode(encodeLogsRequestJson(logs))]
        // Protobuf bytes read back from the queue are the request already; once handed to
        // the compression worker they are gone (empty), and a retry encodes `logs` again.
        : encoded !== undefined && encoded.byteLength > 0
        ? [encoded]
        // Uncompressed: a batch still held encoded is sent from its own pieces.
        : this.#cfg.compression === "none"
        ? encodedPieces(logs) ?? [encodeLogsRequest(logs)]
        // A batch still held encoded: its pieces, copied into parts (the worker takes them).
        : encodedParts(logs, this.#compressor) ?? encodeInParts(logs, encodeError);
    } catch (err) {
      throw encodeError(err);
    }
    if (this.#cfg.compression === "none") return uncompressedBody([...parts]);
    try {
      return await this.#compressor.compressParts(parts);
    } catch (err) {
      if (err instanceof PermanentError) throw err;
      throw new RetryableError(`Cannot compress the batch for ${url}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  async send(
    logs: Logs,
    client: ClientInfo | undefined,
    signal: AbortSignal,
    encoded?: Uint8Array,
  ): Promise<SendResult> {
    const url = this.#cfg.logsUrl;
    const body = await this.body(logs, encoded);
    let headers = this.#headers;
    if (this.#auth !== undefined) {
      const auth = this.#auth;
      headers = { ...headers };
      try {
        if (auth.applyRequestHeaders !== undefined) {
          await auth.applyRequestHeaders(headers, client);
        } else {
          const extra = await auth.getRequestHeaders(client);
          // Lower-cased like ours, so "Authorization" replaces a configured "authorization".
          for (const [k, v] of Object.entries(extra)) headers[k.toLowerCase()] = v;
        }
      } catch (err) {
        throw new RetryableError(
          `Authenticator "${this.#cfg.authenticator}" gave no credentials: ${errorMessage(err)}`,
          {
            cause: err,
          },
        );
      }
    }
    // timeout 0 means none, as upstream's http.Client.
    const timeout = this.#cfg.timeoutMs > 0 ? AbortSignal.timeout(this.#cfg.timeoutMs) : undefined;
    const transport = this.#transport;
    if (transport === undefined) throw new RetryableError("The exporter is not started");
    let resp: HttpAnswer;
    try {
      resp = await transport.post(
        url,
        body,
        headers,
        timeout ? AbortSignal.any([signal, timeout]) : signal,
      );
    } catch (err) {
      if (signal.aborted) throw err;
      if (timeout?.aborted) {
        throw new RetryableError(`Request to ${url} timed out after ${this.#cfg.timeoutMs} ms`, {
          cause: err,
        });
      }
      throw new RetryableError(`Request to ${url} failed: ${describeFetchError(err)}`, {
        cause: err,
      });
    }
    const contentType = (resp.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    const ok = resp.status >= 200 && resp.status < 300;
    let payload: Uint8Array;
    try {
      payload = await resp.readBody(MAX_RESPONSE_BYTES);
    } catch (err) {
      if (ok) {
        // The backend accepted the data; a broken answer body must not cause a resend.
        this.#logger.warn("Could not read the response body of an accepted request", {
          url,
          error: errorMessage(err),
        });
        return {};
      }
      throw new RetryableError(
        `Request to ${url} failed while reading the answer: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    if (ok) return this.#success(contentType, payload);
    const detail = errorDetail(contentType, payload);
    const message = `Request to ${url} failed with HTTP ${resp.status}${
      detail ? `: ${detail}` : ""
    }`;
    if (RETRYABLE_STATUS.has(resp.status)) {
      throw new RetryableError(message, {
        retryAfterMs: parseRetryAfter(resp.header("retry-after")),
      });
    }
    throw new PermanentError(message + hint(resp.status));
  }

  #success(contentType: string, payload: Uint8Array): SendResult {
    if (payload.length === 0) return {};
    let partial: { rejectedLogRecords: bigint; errorMessage: string } | undefined;
    try {
      if (contentType === "application/x-protobuf") partial = decodeLogsResponse(payload);
      else if (contentType === "application/json") {
        partial = decodeLogsResponseJson(new TextDecoder().decode(payload));
      } else return {};
    } catch (err) {
      // Upstream turns this into a permanent error; the data was accepted though (2xx), so
      // counting it as failed would be wrong and retrying would duplicate it.
      this.#logger.warn("Could not parse the backend's answer to an accepted request", {
        url: this.#cfg.logsUrl,
        error: errorMessage(err),
      });
      return {};
    }
    if (partial === undefined) return {};
    const rejected = Number(partial.rejectedLogRecords);
    if (rejected > 0 || partial.errorMessage !== "") {
      this.#logger.warn("Partial success response", {
        message: partial.errorMessage,
        dropped_log_records: rejected,
      });
    }
    return { rejected };
  }
}

/** Records per part of a protobuf body encoded in parts (about 200 KiB of typical logs). */
const PART_RECORDS = 1024;

/**
 * The protobuf request for `logs`, in parts whose concatenation is exactly
 * `encodeLogsRequest(logs)` (a request is a repeated field of resources): each part is one or
 * more whole resources, about {@linkcode PART_RECORDS} records. Handed to the compression
 * worker one by one, the worker compresses while the next part is encoded.
 */
function* encodeInParts(
  logs: Logs,
  encodeError: (err: unknown) => Error,
): Generator<Uint8Array> {
  let group: Logs["resourceLogs"] = [];
  let records = 0;
  const encode = (): Uint8Array => {
    try {
      return encodeLogsRequest({ resourceLogs: group });
    } catch (err) {
      throw encodeError(err);
    }
  };
  for (const rl of logs.resourceLogs) {
    group.push(rl);
    for (const sl of rl.scopeLogs) records += sl.logRecords.length;
    if (records >= PART_RECORDS) {
      yield encode();
      group = [];
      records = 0;
    }
  }
  if (group.length > 0 || logs.resourceLogs.length === 0) yield encode();
}

/**
 * A batch still held encoded, as parts of {@linkcode PART_BYTES} each in the
 * compressor's buffers; else undefined.
 */
function encodedParts(logs: Logs, compressor: Compressor): Iterable<Uint8Array> | undefined {
  const pieces = encodedPieces(logs);
  return pieces === undefined
    ? undefined
    : joinedParts(pieces, PART_BYTES, (bytes) => compressor.partBuffer(bytes));
}

/** Uncompressed bodies at least this large are sent as a `Blob` (see `RequestBody`). */
const BLOB_BODY_BYTES = 1024 * 1024;

/**
 * An uncompressed body from its pieces: joined when small; else a `Blob` of parts of
 * {@linkcode PART_BYTES}, each copied into the Blob through one reused buffer (`fetch` reads a
 * Blob part by part, and many small parts cost more than the copy). The Blob holds its own
 * copy: a retry sends it again, and the pieces stay as they were for other readers.
 */
function uncompressedBody(pieces: readonly Uint8Array[]): RequestBody {
  if (totalLength(pieces) < BLOB_BODY_BYTES) return concatBytes(pieces);
  const scratch = new Uint8Array(PART_BYTES);
  const parts: Blob[] = [];
  for (const part of joinedParts(pieces, PART_BYTES, () => scratch)) {
    parts.push(new Blob([part as Uint8Array<ArrayBuffer>])); // copies the bytes now
  }
  return new Blob(parts);
}

function describeFetchError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, i = 0; e instanceof Error && i < 4; i++, e = e.cause) {
    if (!parts.includes(e.message)) parts.push(e.message);
  }
  return parts.join(": ") || String(err);
}
