/**
 * The gRPC side's own listener (TCP, or TLS terminated here), whose connections are handed to
 * grpc-js through a filter that drops the client's HTTP/2 GOAWAY frames.
 *
 * Why: under Deno 2.9.6 the `node:http2` server that grpc-js runs on aborts the whole process
 * (an nghttp2 assertion in `find_stream_on_goaway_func`, or `free(): invalid pointer`) when
 * it processes a client's GOAWAY on a connection that carried a few hundred calls — every
 * grpc client sends one when it closes its channel (denoland/deno#36788). Measured here with
 * a bare `node:http2` server and Node's grpc-js client, 1,000 calls per connection: the server
 * died within 2–4 connections when the client closed gracefully, never in 30 when it exited
 * without GOAWAY, and never in 60 behind this filter. A server that starts no streams of its
 * own loses nothing by not seeing the client's GOAWAY: the connection still ends with the
 * client's TCP close. The filter streams (it holds at most one 9-byte frame header).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";

const PREFACE_LENGTH = 24; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
const FRAME_HEADER_LENGTH = 9;
const GOAWAY = 0x7;

/** Splits the client's byte stream into HTTP/2 frames and drops GOAWAY frames. */
export class GoawayFilter {
  #prefaceLeft = PREFACE_LENGTH;
  #header = Buffer.alloc(FRAME_HEADER_LENGTH);
  #headerFill = 0;
  #payloadLeft = 0;
  #dropping = false;

  /** The bytes of `chunk` to pass on (views of it, and of a completed frame header). */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let pos = 0;
    if (this.#prefaceLeft > 0) {
      const n = Math.min(this.#prefaceLeft, chunk.length);
      out.push(chunk.subarray(0, n));
      this.#prefaceLeft -= n;
      pos = n;
    }
    while (pos < chunk.length) {
      if (this.#payloadLeft > 0) {
        const n = Math.min(this.#payloadLeft, chunk.length - pos);
        if (!this.#dropping) out.push(chunk.subarray(pos, pos + n));
        this.#payloadLeft -= n;
        pos += n;
        continue;
      }
      const n = Math.min(FRAME_HEADER_LENGTH - this.#headerFill, chunk.length - pos);
      this.#header.set(chunk.subarray(pos, pos + n), this.#headerFill);
      this.#headerFill += n;
      pos += n;
      if (this.#headerFill < FRAME_HEADER_LENGTH) break;
      this.#headerFill = 0;
      this.#payloadLeft = this.#header.readUIntBE(0, 3);
      this.#dropping = this.#header[3] === GOAWAY;
      if (!this.#dropping) out.push(Buffer.from(this.#header));
    }
    return out;
  }
}

/** The properties grpc-js reads from a connection's socket (peer address in `getPeer`). */
type SocketLike = Duplex & Pick<net.Socket, "remoteAddress" | "remotePort">;

/** `sock` as a Duplex whose readable side has the client's GOAWAY frames removed. */
export function withoutClientGoaway(sock: net.Socket): Duplex {
  const filter = new GoawayFilter();
  const d = new Duplex({
    read: () => void sock.resume(),
    write: (chunk, _encoding, cb) => void sock.write(chunk, cb),
    final: (cb) => {
      sock.end();
      cb();
    },
    destroy: (err, cb) => {
      sock.destroy();
      cb(err);
    },
  }) as SocketLike;
  sock.on("data", (chunk: Buffer) => {
    let more = true;
    for (const part of filter.push(chunk)) more = d.push(part) && more;
    if (!more) sock.pause();
  });
  sock.on("end", () => d.push(null));
  sock.on("error", (err) => d.destroy(err));
  sock.on("close", () => d.destroy());
  // What node:http2 and grpc-js ask of a socket.
  Object.assign(d, {
    remoteAddress: sock.remoteAddress,
    remotePort: sock.remotePort,
    remoteFamily: sock.remoteFamily,
    localAddress: sock.localAddress,
    localPort: sock.localPort,
    setNoDelay: () => d,
    setKeepAlive: () => d,
    setTimeout: () => d,
  });
  return d;
}

/** A listening socket server and the connections it accepted. */
export interface Listener {
  readonly port: number;
  /** Stops accepting; with `destroy`, also closes every accepted connection. */
  close(destroy: boolean): Promise<void>;
}

/**
 * Listens on `host:port` with `server` (a `net.Server`, or a `tls.Server` whose
 * `secureConnection` gives the decrypted stream) and hands each connection, filtered, to
 * `inject`. Rejects when the address cannot be bound.
 */
export async function listen(
  server: net.Server | tls.Server,
  endpoint: string,
  inject: (connection: Duplex) => void,
): Promise<Listener> {
  const sockets = new Set<net.Socket>();
  const accept = (sock: net.Socket) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.setNoDelay(true); // small frames (headers, window updates) must not wait for Nagle
    inject(withoutClientGoaway(sock));
  };
  server.on(server instanceof tls.Server ? "secureConnection" : "connection", accept);
  // A handshake that fails (plaintext to a TLS port, an untrusted client certificate) ends
  // that connection only.
  server.on("tlsClientError", (_err: unknown, sock: net.Socket) => sock.destroy());
  const colon = endpoint.lastIndexOf(":");
  const host = endpoint.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(endpoint.slice(colon + 1));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: host === "" ? undefined : host, port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: (destroy) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (destroy) { for (const s of sockets) s.destroy(); }
      }),
  };
}
