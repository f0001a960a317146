/**
 * A batch held as its OTLP/protobuf encoding (ExportLogsServiceRequest bytes) until someone
 * reads its records. A producer that encodes records as it makes them (the stanza adapter)
 * keeps only bytes alive while a batch waits for `batch` and the exporter, instead of a graph
 * of objects per record that the young-generation GC copies again and again; `batch` joins
 * encoded batches by concatenating them (a repeated field: two encoded requests one after
 * the other are one request holding both), and `encodeLogsRequest` returns the bytes as they
 * are.
 *
 * Anything else reads `resourceLogs` as on any `Logs`: the first read decodes the bytes and
 * drops them, since the reader may change what it got. A processor that changes only resources
 * uses `editResources` instead, and the records stay encoded. The bytes themselves are never
 * changed or handed over (transferred to a worker): `encodeLogsRequest` gives out a copy.
 *
 * @module
 */

import { concatBytes, totalLength } from "../bytes.ts";
import type { Logs, Resource, ResourceLogs } from "./logs.ts";
import { decodeRequest } from "./proto_reader.ts";
import { editEncodedResources } from "./resource_edit.ts";

/** See the module doc. */
export class EncodedLogs implements Logs {
  /** The request's bytes in order, in one or more pieces (joined only when needed). */
  #pieces: readonly Uint8Array[] | undefined;
  readonly #records: number;
  #decoded: ResourceLogs[] | undefined;

  /**
   * `pieces`, one after the other, encode an ExportLogsServiceRequest of `records` log
   * records; they are kept, not copied, and must not change.
   */
  constructor(pieces: readonly Uint8Array[], records: number) {
    this.#pieces = pieces;
    this.#records = records;
  }

  /** The records, decoded on first read (the encoding is dropped then). */
  get resourceLogs(): ResourceLogs[] {
    if (this.#decoded === undefined) {
      this.#decoded = decodeRequest(joinPieces(this.#pieces!)).resourceLogs;
      this.#pieces = undefined;
    }
    return this.#decoded;
  }

  set resourceLogs(value: ResourceLogs[]) {
    this.#decoded = value;
    this.#pieces = undefined;
  }

  /** The encoding, while nobody read the records; never to be changed or transferred. */
  get pieces(): readonly Uint8Array[] | undefined {
    return this.#pieces;
  }

  /** The number of log records while still encoded (else undefined: count the records). */
  get encodedRecords(): number | undefined {
    return this.#pieces === undefined ? undefined : this.#records;
  }

  /**
   * Lets `edit` change each resource while the records stay encoded (a processor that changes
   * only resources, such as k8sattributes); the batch holds new bytes afterwards. False, with
   * `edit` never called, when it was decoded already or its bytes need a decode: change
   * `resourceLogs` then.
   */
  editResources(edit: (resource: Resource) => void): boolean {
    if (this.#pieces === undefined) return false;
    const edited = editEncodedResources(this.#pieces, edit);
    if (edited === undefined) return false;
    this.#pieces = edited;
    return true;
  }

  /** A copy for a consumer that changes data: the same bytes (never changed), undecoded. */
  cloneEncoded(): EncodedLogs | undefined {
    return this.#pieces === undefined ? undefined : new EncodedLogs(this.#pieces, this.#records);
  }
}

/** The pieces joined into one new buffer (the caller owns it: always a copy). */
export function joinPieces(pieces: readonly Uint8Array[]): Uint8Array {
  return pieces.length === 1 ? pieces[0]!.slice() : concatBytes(pieces);
}

/**
 * The pieces copied into parts of `size` bytes each, the last one smaller (a piece may span
 * parts). Each part is written into `buffer(bytes)`, which returns at least that many bytes
 * (the caller owns them: a reused buffer is fine once the part was used), or a new one.
 */
export function* joinedParts(
  pieces: readonly Uint8Array[],
  size: number,
  buffer: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes),
): Generator<Uint8Array> {
  let left = totalLength(pieces);
  let part: Uint8Array | undefined;
  let filled = 0;
  for (const piece of pieces) {
    for (let at = 0; at < piece.length;) {
      // A part once yielded is not looked at again: the caller may have moved its buffer.
      if (part === undefined) {
        const bytes = Math.min(size, left);
        part = buffer(bytes).subarray(0, bytes);
        filled = 0;
      }
      const n = Math.min(piece.length - at, part.length - filled);
      part.set(piece.subarray(at, at + n), filled);
      at += n;
      filled += n;
      left -= n;
      if (filled === part.length) {
        const full = part;
        part = undefined;
        yield full;
      }
    }
  }
}

/**
 * Calls `fn` on every resource of `logs`, for a processor that changes only resources: a
 * batch held encoded stays encoded (`editResources`), any other is read as objects.
 */
export function forEachResource(logs: Logs, fn: (resource: Resource) => void): void {
  if (logs instanceof EncodedLogs && logs.editResources(fn)) return;
  for (const rl of logs.resourceLogs) fn(rl.resource);
}

/** The encoding of `logs` if it is an {@linkcode EncodedLogs} nobody decoded yet. */
export function encodedPieces(logs: Logs): readonly Uint8Array[] | undefined {
  return logs instanceof EncodedLogs ? logs.pieces : undefined;
}

/**
 * Joins batches into one when every one of them is still encoded (their pieces in order, not
 * copied); undefined otherwise.
 */
export function concatEncoded(batches: readonly Logs[]): EncodedLogs | undefined {
  const pieces: Uint8Array[] = [];
  let records = 0;
  for (const b of batches) {
    const own = encodedPieces(b);
    if (own === undefined) return undefined;
    for (const p of own) pieces.push(p); // not spread: a batch may hold very many pieces
    records += (b as EncodedLogs).encodedRecords!;
  }
  return new EncodedLogs(pieces, records);
}
