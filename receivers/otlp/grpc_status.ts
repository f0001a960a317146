/**
 * How an Export outcome becomes a gRPC status, as upstream's otlpreceiver answers: retryable
 * refusals `Unavailable`, resource exhaustion `ResourceExhausted`, permanent pipeline errors
 * `Internal`. When the refusal said how long to wait, the status carries a
 * `google.rpc.RetryInfo` detail (in `grpc-status-details-bin`), which OTLP clients honour.
 *
 * @module
 */

import { status as Status } from "@grpc/grpc-js";
import type { ExportOutcome } from "./export.ts";

/** A refused call's status: code, message and, when known, the retry delay. */
export interface GrpcError {
  code: Status;
  details: string;
  /** The google.rpc.Status to send in `grpc-status-details-bin`, when there are details. */
  statusDetails?: Uint8Array;
}

/** The status of a refused outcome; `undefined` for `ok`. */
export function outcomeStatus(outcome: ExportOutcome): GrpcError | undefined {
  switch (outcome.kind) {
    case "ok":
      return undefined;
    case "permanent":
      return { code: Status.INTERNAL, details: outcome.message };
    case "retryable":
    case "exhausted": {
      const code = outcome.kind === "retryable" ? Status.UNAVAILABLE : Status.RESOURCE_EXHAUSTED;
      const err: GrpcError = { code, details: outcome.message };
      if (outcome.retryAfterMs !== undefined) {
        err.statusDetails = encodeStatusWithRetryInfo(code, outcome.message, outcome.retryAfterMs);
      }
      return err;
    }
  }
}

const RETRY_INFO_TYPE_URL = "type.googleapis.com/google.rpc.RetryInfo";

/** A protobuf message being written: fields appended in order. */
class Writer {
  readonly #bytes: number[] = [];

  varint(field: number, v: number): this {
    if (v === 0) return this;
    this.#tag(field, 0);
    this.#raw(v);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.#tag(field, 2);
    this.#raw(b.length);
    for (const x of b) this.#bytes.push(x);
    return this;
  }

  string(field: number, s: string): this {
    return s === "" ? this : this.bytes(field, new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }

  #tag(field: number, wireType: number): void {
    this.#raw(field * 8 + wireType);
  }

  /** A non-negative varint (every value here is below 2^53). */
  #raw(v: number): void {
    while (v > 0x7f) {
      this.#bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.#bytes.push(v);
  }
}

/**
 * `google.rpc.Status{code, message, details: [Any(RetryInfo{retry_delay})]}`, by hand (the
 * googleapis protos are not vendored; the layout is fixed by the gRPC spec).
 */
export function encodeStatusWithRetryInfo(
  code: number,
  message: string,
  retryAfterMs: number,
): Uint8Array {
  const ms = Math.max(0, Math.round(retryAfterMs));
  const duration = new Writer()
    .varint(1, Math.floor(ms / 1000))
    .varint(2, (ms % 1000) * 1_000_000)
    .finish();
  const retryInfo = new Writer().bytes(1, duration).finish();
  const any = new Writer().string(1, RETRY_INFO_TYPE_URL).bytes(2, retryInfo).finish();
  return new Writer().varint(1, code).string(2, message).bytes(3, any).finish();
}
