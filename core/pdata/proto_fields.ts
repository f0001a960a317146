/**
 * A protobuf message's fields as byte ranges, read from tags and lengths only (nothing is
 * decoded): what splitting a request into slices (`receivers/otlp/sliced_decode.ts`) and
 * editing the resources of an encoded batch (`resource_edit.ts`) walk.
 *
 * @module
 */

/** Where the last {@linkcode varint} stopped. */
let next = 0;

/** Reads a varint at `pos` (below 2^53) and sets `next`; -1 when truncated or too long. */
function varint(b: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 8 && pos < end; i++) {
    const byte = b[pos++]!;
    value += (byte & 0x7f) * mul;
    if (byte < 0x80) {
      next = pos;
      return value;
    }
    mul *= 128;
  }
  return -1;
}

/**
 * Appends `tag, start, bodyStart, end` for each field of the message in `[pos, end)` to `out`;
 * false when a field is not a plain varint/fixed/length-delimited one or runs past `end`.
 */
export function fields(b: Uint8Array, pos: number, end: number, out: number[]): boolean {
  while (pos < end) {
    const start = pos;
    const tag = varint(b, pos, end);
    if (tag < 0) return false;
    let bodyStart = next;
    let fieldEnd: number;
    switch (tag & 7) {
      case 0:
        if (varint(b, bodyStart, end) < 0) return false;
        fieldEnd = next;
        break;
      case 1:
        fieldEnd = bodyStart + 8;
        break;
      case 5:
        fieldEnd = bodyStart + 4;
        break;
      case 2: {
        const len = varint(b, bodyStart, end);
        if (len < 0) return false;
        bodyStart = next;
        fieldEnd = bodyStart + len;
        break;
      }
      default:
        return false; // groups and invalid wire types: the whole decode decides
    }
    if (fieldEnd > end) return false;
    out.push(tag, start, bodyStart, fieldEnd);
    pos = fieldEnd;
  }
  return true;
}
