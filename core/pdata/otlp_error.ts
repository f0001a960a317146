/**
 * The error both OTLP codecs throw on malformed input, and the limits they enforce.
 *
 * @module
 */

/** Thrown when OTLP protobuf or JSON input is malformed; the message says what and where. */
export class OtlpDecodeError extends Error {
  override name = "OtlpDecodeError";
}

/**
 * The deepest AnyValue nesting the decoders accept (a record body is level 1, a value inside
 * an array or kvlist of it level 2, …). Deeper input is rejected instead of exhausting the
 * stack; real log bodies stay far below this.
 */
export const MAX_ANY_VALUE_DEPTH = 128;
