// The otlp receiver's gRPC side alone: 1,000-record protobuf Export calls, gzip-compressed as
// the Go collector's otlp exporter sends them, from several client connections (clients in
// another process) into a consumer that drops them, in records per CPU-second of the
// receiver's process. Next to it, measured in the same run (rounds interleaved, medians
// reported): a bare grpc-js server with the same raw-bytes method that only receives the
// message (grpc-js inflates it) and answers an empty response.
//
// Run: deno run --allow-all bench/otlp_grpc_bench.ts [connections=8] [seconds=3] [rounds=3]
//
// CPU time is the server process's user+system time from /proc/<pid>/stat (Linux).

import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { encodeLogsRequest } from "../core/pdata/otlp_proto.ts";
import { sampleLogs } from "../core/pdata/testing.ts";
import { LOGS_SERVICE } from "../receivers/otlp/grpc_server.ts";
import { cpuSeconds, firstLine, median, startNullReceiver } from "./_receiver_load.ts";

const RECORDS_PER_REQUEST = 1000;
const self = new URL(import.meta.url).pathname;

/** Serves the real receiver (gRPC only, null consumer) and prints its address. */
async function serveReceiver(): Promise<void> {
  const receiver = await startNullReceiver({ grpc: { endpoint: "127.0.0.1:0" } });
  console.log(`127.0.0.1:${receiver.grpcPort}`);
}

/** Serves the baseline: the same method, the message received and dropped. */
async function serveBare(): Promise<void> {
  const server = new grpc.Server();
  server.addService(LOGS_SERVICE, {
    Export: (_call: unknown, done: grpc.sendUnaryData<Buffer>) => done(null, Buffer.alloc(0)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (err, p) => err ? reject(err) : resolve(p),
    )
  );
  console.log(`127.0.0.1:${port}`);
}

/**
 * Calls from `connections` channels: one second of warm-up, then prints `warm`, calls for
 * `seconds`, prints how many calls were OK, and closes the channels.
 */
async function client(address: string, connections: number, seconds: number): Promise<void> {
  const body = Buffer.from(encodeLogsRequest(sampleLogs(RECORDS_PER_REQUEST)));
  const Ctor = grpc.makeGenericClientConstructor(LOGS_SERVICE, "LogsService");
  const channels = Array.from({ length: connections }, () =>
    // A channel of its own (not the shared subchannel pool), so one TCP connection each.
    new Ctor(address, grpc.credentials.createInsecure(), {
      "grpc.default_compression_algorithm": 2, // gzip
      "grpc.use_local_subchannel_pool": 1,
    }) as grpc.Client & Record<string, CallableFunction>);
  let ok = 0;
  let failed = 0;
  const run = (ms: number) => {
    const end = performance.now() + ms;
    return Promise.all(channels.map(async (c) => {
      while (performance.now() < end) {
        await new Promise<void>((resolve) =>
          c.Export(body, (err: grpc.ServiceError | null) => {
            if (err) failed++;
            else ok++;
            resolve();
          })
        );
      }
    }));
  };
  await run(1000);
  console.log("warm");
  ok = failed = 0;
  await run(seconds * 1000);
  console.log(JSON.stringify({ ok, failed }));
  for (const c of channels) c.close();
}

/** Reads `stream` line by line. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    let nl;
    while ((nl = text.indexOf("\n")) >= 0) {
      yield text.slice(0, nl);
      text = text.slice(nl + 1);
    }
  }
}

/** One round against one server: records per CPU-second of the server process. */
async function round(mode: string, connections: number, seconds: number): Promise<number> {
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", self, mode],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const address = await firstLine(server.stdout);
    const client = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", self, "client", address, String(connections), String(seconds)],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const out = lines(client.stdout);
    if ((await out.next()).value !== "warm") throw new Error(`${mode}: the client failed`);
    const before = cpuSeconds(server.pid);
    const { value } = await out.next();
    const cpu = cpuSeconds(server.pid) - before;
    await client.status;
    const result = JSON.parse(value ?? "{}");
    if (!(result.failed === 0)) throw new Error(`${mode}: ${result.failed} calls failed`);
    return (result.ok * RECORDS_PER_REQUEST) / cpu;
  } finally {
    try {
      server.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await server.status;
    await server.stdout.cancel().catch(() => {});
  }
}

async function main(): Promise<void> {
  const [connections = 8, seconds = 3, rounds = 3] = Deno.args.map(Number);
  const bare: number[] = [];
  const receiver: number[] = [];
  for (let i = 0; i < rounds; i++) {
    bare.push(await round("serve-bare", connections, seconds));
    receiver.push(await round("serve-receiver", connections, seconds));
  }
  const k = (x: number) => `${(x / 1000).toFixed(0)}k`;
  const fmt = (x: number) => `${k(x).padStart(6)} records/CPU-s`;
  console.log(
    `${RECORDS_PER_REQUEST}-record gzip protobuf Export calls, ${connections} connections, ` +
      `${rounds} rounds of ${seconds}s (median; each round: ${
        bare.map((b, i) => `${k(b)}/${k(receiver[i]!)}`).join(", ")
      })`,
  );
  console.log(`bare grpc-js server (receive + inflate)   ${fmt(median(bare))}`);
  console.log(`otlp receiver, gRPC (null consumer)       ${fmt(median(receiver))}`);
  console.log(
    `ratio                                     ${(median(receiver) / median(bare)).toFixed(2)}×`,
  );
}

if (import.meta.main) {
  const [mode, ...rest] = Deno.args;
  if (mode === "serve-receiver") await serveReceiver();
  else if (mode === "serve-bare") await serveBare();
  else if (mode === "client") await client(rest[0]!, Number(rest[1]), Number(rest[2]));
  else await main();
}
