/**
 * OTLP/HTTP for logs, answering as upstream's otlpreceiver: 404 for another path, 405 for
 * another method, 415 for another content type (both text/plain); otherwise every answer is
 * in the request's encoding: 200 with an `ExportLogsServiceResponse`, or a `google.rpc.Status`
 * with 400 (body unreadable, too large or undecodable), 503 (retryable refusal, with
 * `Retry-After` when known), 429 (resource exhausted) or 500 (permanent refusal).
 *
 * @module
 */

import { type AdmissionCheck, BudgetExhaustedError } from "../../core/admission.ts";
import type { ErrorResponder, RequestHandler } from "../../core/confighttp/mod.ts";
import { type LogsConsumer, takesEncoded } from "../../core/consumer.ts";
import { encodeUtf8Into, utf8Length } from "../../core/pdata/utf8.ts";
import type { Logs } from "../../core/pdata/logs.ts";
import { encodeLogsResponseJson } from "../../core/pdata/otlp_json.ts";
import { encodeLogsResponse } from "../../core/pdata/otlp_proto.ts";
import type { ObsReport } from "../../core/receiverhelper/mod.ts";
import type { Logger } from "../../core/telemetry/logger.ts";
import { classifyError, exportLogs, type ExportOutcome } from "./export.ts";
import { logsFromProtobuf } from "./protobuf_logs.ts";
import { decodeLogsRequestJsonSliced } from "./sliced_json.ts";

const PB = "application/x-protobuf";
const JSON_TYPE = "application/json";

type Encoding = "proto" | "json";

/** The media type of a `Content-Type` value, lower-cased, without parameters. */
function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

function encodingOf(contentType: string | null): Encoding | undefined {
  const t = mediaType(contentType);
  return t === PB ? "proto" : t === JSON_TYPE ? "json" : undefined;
}

/** gRPC codes of upstream's HTTP-status-to-Status mapping (`NewStatusFromMsgAndHTTPCode`). */
function grpcCodeOf(status: number): number {
  switch (status) {
    case 400:
      return 3; // InvalidArgument
    case 401:
      return 16; // Unauthenticated
    case 403:
      return 7; // PermissionDenied
    case 404:
      return 12; // Unimplemented
    case 429:
      return 8; // ResourceExhausted
    case 502:
    case 503:
    case 504:
      return 14; // Unavailable
    case 500:
      return 13; // Internal (a permanent pipeline error's status upstream)
    default:
      return 2; // Unknown
  }
}

/** Encodes a google.rpc.Status { code = 1; message = 2 } (no details). */
export function encodeStatusProto(code: number, message: string): Uint8Array {
  const len = utf8Length(message);
  const lenBytes: number[] = [];
  for (let v = len;; v >>>= 7) {
    if (v < 0x80) {
      lenBytes.push(v);
      break;
    }
    lenBytes.push((v & 0x7f) | 0x80);
  }
  const out = new Uint8Array(2 + (len > 0 ? 1 + lenBytes.length + len : 0));
  out[0] = 0x08;
  out[1] = code; // codes are below 128
  if (len > 0) {
    out[2] = 0x12;
    out.set(lenBytes, 3);
    encodeUtf8Into(message, out, 3 + lenBytes.length);
  }
  return out;
}

function statusResponse(
  enc: Encoding,
  status: number,
  message: string,
  retryAfterMs?: number,
): Response {
  const code = grpcCodeOf(status);
  const headers: Record<string, string> = { "content-type": enc === "proto" ? PB : JSON_TYPE };
  if (retryAfterMs !== undefined && (status === 503 || status === 429)) {
    headers["retry-after"] = String(Math.ceil(retryAfterMs / 1000));
  }
  const body = enc === "proto"
    ? encodeStatusProto(code, message)
    : JSON.stringify({ code, message });
  return new Response(body as BodyInit, { status, headers });
}

function text(status: number, message: string): Response {
  return new Response(message, { status, headers: { "content-type": "text/plain" } });
}

/**
 * Answers the errors confighttp answers itself (401, bad `Content-Encoding`) as upstream's
 * receiver does: a Status in the request's encoding (JSON when none is given); for another
 * content type upstream answers 500 with a fixed JSON Status, and so does this.
 */
export const otlpErrorResponse: ErrorResponder = (req, status, message) => {
  const contentType = req.headers.get("content-type");
  const enc = contentType === null || contentType === "" ? "json" : encodingOf(contentType);
  if (enc === undefined) {
    return new Response('{"code": 13, "message": "failed to marshal error message"}', {
      status: 500,
      headers: { "content-type": JSON_TYPE },
    });
  }
  return statusResponse(enc, status, message);
};

function outcomeResponse(enc: Encoding, outcome: ExportOutcome): Response {
  switch (outcome.kind) {
    case "ok": {
      const body = enc === "proto" ? encodeLogsResponse() : encodeLogsResponseJson();
      return new Response(body as BodyInit, {
        headers: { "content-type": enc === "proto" ? PB : JSON_TYPE },
      });
    }
    case "retryable":
      return statusResponse(enc, 503, outcome.message, outcome.retryAfterMs);
    case "exhausted":
      return statusResponse(enc, 429, outcome.message, outcome.retryAfterMs);
    case "permanent":
      return statusResponse(enc, 500, outcome.message);
  }
}

/** What the logs handler needs. */
export interface LogsHandlerOptions {
  readonly logsUrlPath: string;
  readonly next: LogsConsumer;
  readonly obs?: ObsReport;
  readonly logger: Logger;
  /** Aborted when the receiver shuts down: requests waiting on the pipeline give up (503). */
  readonly signal?: AbortSignal;
  /** Asked before a body is read: a refusal is answered 503 without reading it. */
  readonly admission?: AdmissionCheck;
}

/** The request handler of `protocols::http`. */
export function logsHandler(opts: LogsHandlerOptions): RequestHandler {
  return async (req) => {
    if (req.path !== opts.logsUrlPath) return text(404, "404 page not found\n");
    if (req.request.method !== "POST") {
      return text(405, "405 method not allowed, supported: [POST]");
    }
    const enc = encodingOf(req.request.headers.get("content-type"));
    if (enc === undefined) {
      return text(415, `415 unsupported media type, supported: [${JSON_TYPE}, ${PB}]`);
    }
    // Before the body is read: a pipeline that would refuse it (memory_limiter) costs nothing.
    const refusal = opts.admission?.();
    if (refusal !== undefined) {
      return statusResponse(enc, 503, refusal.message, refusal.retryAfterMs);
    }
    let logs: Logs;
    try {
      const body = await req.body();
      logs = enc === "proto"
        ? await logsFromProtobuf(body, { handOnEncoded: takesEncoded(opts.next) })
        : await decodeLogsRequestJsonSliced(new TextDecoder().decode(body));
      req.releaseBody();
    } catch (err) {
      if (err instanceof BudgetExhaustedError) {
        // Too many bytes in flight (admission::request_limit_mib): retry later, as otelarrow.
        return outcomeResponse(enc, classifyError(err));
      }
      // BodyError (size, decompression, read_timeout) or OtlpDecodeError: the client's fault.
      const message = err instanceof Error ? err.message : String(err);
      opts.logger.debug("Refused an undecodable request", {
        error: message,
        peer: req.client.addr,
      });
      return statusResponse(enc, 400, message);
    }
    const outcome = await exportLogs(opts.next, logs, {
      client: req.client,
      ...(opts.signal ? { signal: opts.signal } : {}),
    }, opts.obs);
    return outcomeResponse(enc, outcome);
  };
}
