/**
 * Edits the resources of an encoded batch (ExportLogsServiceRequest bytes, in pieces) without
 * decoding its records, for a processor that changes only resources (k8sattributes): each
 * ResourceLogs' resource is decoded and handed to the edit, and the piece is written again
 * with the edited resource first and every other field (scopes, records, schema URL) copied
 * byte for byte.
 *
 * @module
 */

import type { Resource } from "./logs.ts";
import { fields } from "./proto_fields.ts";
import { decodeResource } from "./proto_reader.ts";
import { encodeResource, putVarint, varintSize } from "./proto_writer.ts";

/** One ResourceLogs of a piece: its body, and the resource field in it (-1 when absent). */
interface Entry {
  bodyStart: number;
  end: number;
  fieldStart: number;
  fieldEnd: number;
  resource: Resource;
}

/**
 * The pieces again with every resource passed through `edit`, in order; undefined, with
 * `edit` never called, when a piece is not a plain request (such as a resource sent twice):
 * decode those instead.
 */
export function editEncodedResources(
  pieces: readonly Uint8Array[],
  edit: (resource: Resource) => void,
): Uint8Array[] | undefined {
  const entries: Entry[][] = [];
  for (const piece of pieces) {
    const e = entriesOf(piece);
    if (e === undefined) return undefined;
    entries.push(e);
  }
  for (const list of entries) for (const e of list) edit(e.resource);
  return pieces.map((piece, i) => rewrite(piece, entries[i]!));
}

function entriesOf(piece: Uint8Array): Entry[] | undefined {
  const top: number[] = [];
  if (!fields(piece, 0, piece.length, top)) return undefined;
  const entries: Entry[] = [];
  const body: number[] = [];
  for (let i = 0; i < top.length; i += 4) {
    if (top[i] !== 0x0a) return undefined; // only resource_logs
    body.length = 0;
    if (!fields(piece, top[i + 2]!, top[i + 3]!, body)) return undefined;
    let fieldStart = -1;
    let fieldEnd = -1;
    let resource: Resource = { attributes: [], droppedAttributesCount: 0 };
    for (let j = 0; j < body.length; j += 4) {
      if (body[j] !== 0x0a) continue; // scope_logs and schema_url stay as they are
      if (fieldStart >= 0) return undefined; // a resource twice: merged by a decode
      fieldStart = body[j + 1]!;
      fieldEnd = body[j + 3]!;
      try {
        resource = decodeResource(piece.subarray(body[j + 2]!, fieldEnd));
      } catch {
        return undefined; // the decode of the whole batch reports it
      }
    }
    entries.push({ bodyStart: top[i + 2]!, end: top[i + 3]!, fieldStart, fieldEnd, resource });
  }
  return entries;
}

function rewrite(piece: Uint8Array, entries: Entry[]): Uint8Array {
  const encoded = entries.map((e) => encodeResource(e.resource));
  const bodyLengths = entries.map((e, i) => {
    const resourceField = 1 + varintSize(encoded[i]!.length) + encoded[i]!.length;
    const old = e.fieldStart < 0 ? 0 : e.fieldEnd - e.fieldStart;
    return resourceField + (e.end - e.bodyStart) - old;
  });
  let total = 0;
  for (const n of bodyLengths) total += 1 + varintSize(n) + n;
  const out = new Uint8Array(total);
  let pos = 0;
  const copy = (from: number, to: number) => {
    out.set(piece.subarray(from, to), pos);
    pos += to - from;
  };
  entries.forEach((e, i) => {
    out[pos++] = 0x0a; // ExportLogsServiceRequest.resource_logs
    pos = putVarint(out, pos, bodyLengths[i]!);
    out[pos++] = 0x0a; // ResourceLogs.resource
    pos = putVarint(out, pos, encoded[i]!.length);
    out.set(encoded[i]!, pos);
    pos += encoded[i]!.length;
    if (e.fieldStart < 0) {
      copy(e.bodyStart, e.end);
    } else {
      copy(e.bodyStart, e.fieldStart);
      copy(e.fieldEnd, e.end);
    }
  });
  return out;
}
