/**
 * Runs inside the agent's private network namespace (see `_profile_agent.ts`): listens on
 * the addresses the agent profile's `--allow-net` names and forwards each connection to a
 * Unix socket, which the test process serves in the host's network namespace (Unix sockets
 * live in the filesystem, so they cross network namespaces). `--tls` listeners terminate TLS
 * with `--cert`/`--key` first, as the API server's Service does.
 *
 * Run (as root, to bind 443): deno run --allow-net --allow-read --allow-write --allow-ffi
 *   _ns_bridge.ts --cert FILE --key FILE --tcp HOST:PORT=SOCKET … --tls HOST:PORT=SOCKET …
 * Prints `bridge ready` once every listener is bound; SIGTERM ends it.
 *
 * @module
 */

/**
 * Brings the namespace's loopback interface up (a new network namespace starts with it down)
 * through libc, so the set-up needs no `ip` command: SIOCGIFFLAGS, then SIOCSIFFLAGS with
 * IFF_UP added. `struct ifreq` is the 16-byte name followed by the flags (little-endian).
 */
function loopbackUp(): void {
  const libc = Deno.dlopen("libc.so.6", {
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    ioctl: { parameters: ["i32", "usize", "buffer"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
  });
  try {
    const fd = libc.symbols.socket(2, /* AF_INET */ 2, /* SOCK_DGRAM */ 0);
    const ifr = new Uint8Array(40);
    ifr.set(new TextEncoder().encode("lo"));
    const flags = new DataView(ifr.buffer);
    const got = libc.symbols.ioctl(fd, 0x8913n, ifr);
    flags.setInt16(16, flags.getInt16(16, true) | 0x1, true);
    const set = got === 0 ? libc.symbols.ioctl(fd, 0x8914n, ifr) : got;
    libc.symbols.close(fd);
    if (fd < 0 || set !== 0) throw new Error("could not bring the loopback interface up");
  } finally {
    libc.close();
  }
}

/** Copies both directions until either side ends, then closes both. */
export async function splice(a: Deno.Conn, b: Deno.Conn): Promise<void> {
  await Promise.race([
    a.readable.pipeTo(b.writable, { preventClose: true }),
    b.readable.pipeTo(a.writable, { preventClose: true }),
  ]).catch(() => {});
  for (const c of [a, b]) {
    try {
      c.close();
    } catch { /* closed already */ }
  }
}

async function serve(listener: Deno.Listener, socket: string): Promise<void> {
  for await (const conn of listener) {
    Deno.connect({ transport: "unix", path: socket }).then(
      (upstream) => splice(conn, upstream),
      () => conn.close(),
    );
  }
}

function main(args: string[]): Promise<unknown> {
  const option = (name: string): string[] =>
    args.flatMap((a, i) => a === `--${name}` && i + 1 < args.length ? [args[i + 1]!] : []);
  const parse = (spec: string): { hostname: string; port: number; socket: string } => {
    const m = /^(.+):(\d+)=(.+)$/.exec(spec);
    if (m === null) throw new Error(`bad listener "${spec}": want HOST:PORT=SOCKET`);
    return { hostname: m[1]!, port: Number(m[2]), socket: m[3]! };
  };

  loopbackUp();
  const served: Promise<void>[] = [];
  for (const spec of option("tcp")) {
    const { hostname, port, socket } = parse(spec);
    served.push(serve(Deno.listen({ hostname, port }), socket));
  }
  const [cert, key] = [option("cert")[0], option("key")[0]];
  for (const spec of option("tls")) {
    if (cert === undefined || key === undefined) throw new Error("--tls needs --cert and --key");
    const { hostname, port, socket } = parse(spec);
    const listener = Deno.listenTls({
      hostname,
      port,
      cert: Deno.readTextFileSync(cert),
      key: Deno.readTextFileSync(key),
    });
    served.push(serve(listener, socket));
  }
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  console.log("bridge ready");
  return Promise.all(served);
}

if (import.meta.main) await main(Deno.args);
