/**
 * OTLP/JSON codec for logs: ExportLogsServiceRequest and ExportLogsServiceResponse.
 *
 * The encoder writes the OTLP/JSON format (lowerCamelCase keys, hex trace/span ids, int64 as
 * decimal strings, enums as integers, bytes as base64, defaults omitted). The decoder accepts
 * what upstream's lenient decoder accepts: snake_case keys too, int64 as numbers or strings
 * (exact beyond 2^53), hex ids in any case, severity enum names, unknown fields (ignored);
 * anything else raises `OtlpDecodeError` naming the JSON path of the bad value.
 *
 * @example
 * ```ts
 * import { decodeLogsRequestJson, encodeLogsRequestJson } from "./otlp_json.ts";
 *
 * const logs = decodeLogsRequestJson('{"resourceLogs":[]}');
 * const text = encodeLogsRequestJson(logs); // "{}"
 * ```
 *
 * @module
 */

import type { Logs } from "./logs.ts";
import type { ExportLogsPartialSuccess } from "./otlp_proto.ts";
import { readRequestJson, readResponseJson } from "./json_reader.ts";
import { writeRequestJson } from "./json_writer.ts";

export { OtlpDecodeError } from "./otlp_error.ts";

/** Encodes a batch as an OTLP/JSON ExportLogsServiceRequest. */
export function encodeLogsRequestJson(logs: Logs): string {
  return writeRequestJson(logs);
}

/**
 * Decodes an OTLP/JSON ExportLogsServiceRequest.
 *
 * @throws {OtlpDecodeError} when the text is not valid JSON or does not fit the schema
 */
export function decodeLogsRequestJson(text: string): Logs {
  return readRequestJson(text);
}

/** Encodes an OTLP/JSON ExportLogsServiceResponse; `{}` when `p` is undefined (full success). */
export function encodeLogsResponseJson(p?: ExportLogsPartialSuccess): string {
  if (p === undefined) return "{}";
  const fields: string[] = [];
  const rejected = BigInt.asIntN(64, p.rejectedLogRecords);
  if (rejected !== 0n) fields.push(`"rejectedLogRecords":"${rejected}"`);
  if (p.errorMessage !== "") fields.push(`"errorMessage":${JSON.stringify(p.errorMessage)}`);
  return `{"partialSuccess":{${fields.join(",")}}}`;
}

/**
 * Decodes an OTLP/JSON ExportLogsServiceResponse.
 *
 * @returns the partial success, or `undefined` when the response has none (full success)
 * @throws {OtlpDecodeError} when the text is not valid JSON or does not fit the schema
 */
export function decodeLogsResponseJson(text: string): ExportLogsPartialSuccess | undefined {
  return readResponseJson(text);
}
