/**
 * Checkpoint encoding, in upstream's JSON layout (a count, then one object per file with
 * Go field names), plus `Path`: the last path, used to find a file rotated while the
 * collector was down. Upstream's decoder ignores the extra field.
 *
 * @module
 */

import { fromBase64 } from "../../core/pdata/json_reader.ts";
import { toBase64 } from "../../core/pdata/json_writer.ts";

/** The storage key upstream's file input uses. */
export const KNOWN_FILES_KEY = "file_input.knownFiles";

/** One file's saved state. */
export interface FileCheckpoint {
  readonly fingerprint: Uint8Array;
  readonly offset: number;
  readonly recordNum: number;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly path: string;
  readonly gzip: boolean;
  /** The header (if `header` is configured) was read completely. */
  readonly headerFinalized: boolean;
  /** When the partial data at EOF last changed (ms), and its length. */
  readonly flushLastChangeMs: number;
  readonly flushLength: number;
}

/** Encodes one file's state as upstream's JSON object (one line). */
export function encodeFile(c: FileCheckpoint): string {
  return JSON.stringify({
    Fingerprint: { first_bytes: toBase64(c.fingerprint) },
    Offset: c.offset,
    RecordNum: c.recordNum,
    FileAttributes: c.attributes,
    HeaderFinalized: c.headerFinalized,
    FlushState: {
      LastDataChange: new Date(c.flushLastChangeMs || 0).toISOString(),
      LastDataLength: c.flushLength,
    },
    FileType: c.gzip ? ".gz" : "",
    Path: c.path,
  });
}

const encoder = new TextEncoder();

/** Encodes the stream: the count, then the objects already encoded by {@linkcode encodeFile}. */
export function encodeCheckpoint(lines: readonly string[]): Uint8Array {
  return encoder.encode(`${lines.length}\n${lines.join("\n")}${lines.length ? "\n" : ""}`);
}

/** Decodes a stored checkpoint; throws a `SyntaxError` naming the problem when corrupt. */
export function decodeCheckpoint(data: Uint8Array): FileCheckpoint[] {
  const text = new TextDecoder().decode(data);
  const values = parseJsonStream(text);
  if (values.length === 0) return [];
  const count = values[0];
  if (typeof count !== "number") {
    throw new SyntaxError("checkpoint does not start with a file count");
  }
  const out: FileCheckpoint[] = [];
  for (const v of values.slice(1, 1 + count)) {
    if (v === null || typeof v !== "object") {
      throw new SyntaxError("checkpoint entry is not an object");
    }
    const o = v as Record<string, unknown>;
    const fpObj = o.Fingerprint as Record<string, unknown> | undefined;
    const fp = typeof fpObj?.first_bytes === "string"
      ? fromBase64(fpObj.first_bytes)
      : new Uint8Array();
    if (fp === undefined) throw new SyntaxError("checkpoint fingerprint is not base64");
    const attrs = (o.FileAttributes ?? {}) as Record<string, unknown>;
    const flush = (o.FlushState ?? {}) as Record<string, unknown>;
    const path = typeof o.Path === "string"
      ? o.Path
      : typeof attrs["log.file.path"] === "string"
      ? attrs["log.file.path"] as string
      : "";
    out.push({
      fingerprint: fp,
      offset: Number(o.Offset ?? 0),
      recordNum: Number(o.RecordNum ?? 0),
      attributes: attrs,
      path,
      gzip: o.FileType === ".gz",
      headerFinalized: o.HeaderFinalized === true,
      flushLastChangeMs: typeof flush.LastDataChange === "string"
        ? Date.parse(flush.LastDataChange) || 0
        : 0,
      flushLength: Number(flush.LastDataLength ?? 0),
    });
  }
  return out;
}

/** Splits concatenated JSON values (as Go's json.Encoder writes them). */
function parseJsonStream(text: string): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const start = i;
    if (text[i] === "{" || text[i] === "[") {
      let depth = 0;
      let inStr = false;
      for (; i < text.length; i++) {
        const c = text[i]!;
        if (inStr) {
          if (c === "\\") i++;
          else if (c === '"') inStr = false;
        } else if (c === '"') inStr = true;
        else if (c === "{" || c === "[") depth++;
        else if (c === "}" || c === "]") {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
      }
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) i++;
    }
    out.push(JSON.parse(text.slice(start, i)));
  }
  return out;
}
