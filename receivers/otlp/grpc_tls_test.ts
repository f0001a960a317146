/** The gRPC side over TLS and mTLS, and its certificate reload. */

import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createSecureContext } from "node:tls";
import { encodeLogsRequest } from "../../core/pdata/otlp_proto.ts";
import { sampleLogs } from "../../core/pdata/testing.ts";
import { makeTestCerts, type TestCerts } from "../../tests/fakes/otlp_sink.ts";
import { RawClient, startTestServer } from "./_grpc_test_helpers.ts";

const BODY = encodeLogsRequest(sampleLogs(2));

function read(file: string): Buffer {
  return Buffer.from(Deno.readFileSync(file));
}

/** One call through a fresh channel to `localhost:<port>` (the certificate's name). */
async function call(port: number, creds: grpc.ChannelCredentials): Promise<grpc.status> {
  const client = new RawClient(`localhost:${port}`, creds);
  try {
    return (await client.export(BODY)).code;
  } finally {
    client.close();
  }
}

/** Waits until a log line contains `text` (a hang guard gives up after 10 s). */
async function logged(lines: string[], text: string): Promise<void> {
  for (let i = 0; !lines.some((l) => l.includes(text)); i++) {
    if (i === 1000) throw new Error(`never logged: ${text}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tlsConfig(certs: TestCerts, extra: Record<string, unknown> = {}) {
  return { tls: { cert_file: certs.serverCertFile, key_file: certs.serverKeyFile, ...extra } };
}

Deno.test("otlp grpc TLS: a client trusting the CA is served; plaintext and strangers are not", async () => {
  const certs = await makeTestCerts();
  const t = await startTestServer(tlsConfig(certs));
  try {
    assert.equal(await call(t.server.port, grpc.credentials.createSsl(read(certs.caFile))), 0);
    assert.equal(t.received.length, 1);
    assert.equal(t.received[0]!.ctx.client?.addr, "127.0.0.1");
    assert.equal(
      await call(t.server.port, grpc.credentials.createInsecure()),
      grpc.status.UNAVAILABLE,
    );
    const otherCa = await makeTestCerts();
    try {
      assert.equal(
        await call(t.server.port, grpc.credentials.createSsl(read(otherCa.caFile))),
        grpc.status.UNAVAILABLE,
        "the server's certificate is not trusted",
      );
    } finally {
      await Deno.remove(otherCa.dir, { recursive: true });
    }
    assert.equal(t.received.length, 1);
  } finally {
    await t.stop();
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test("otlp grpc mTLS: client_ca_file admits only clients with a certificate from that CA", async () => {
  const certs = await makeTestCerts();
  const t = await startTestServer(tlsConfig(certs, { client_ca_file: certs.caFile }));
  const ca = read(certs.caFile);
  try {
    const withCert = grpc.credentials.createSsl(
      ca,
      read(certs.clientKeyFile),
      read(certs.clientCertFile),
    );
    assert.equal(await call(t.server.port, withCert), grpc.status.OK);
    assert.equal(
      await call(t.server.port, grpc.credentials.createSsl(ca)),
      grpc.status.UNAVAILABLE,
    );
    const stranger = grpc.credentials.createSsl(
      ca,
      read(certs.strangerKeyFile),
      read(certs.strangerCertFile),
    );
    assert.equal(await call(t.server.port, stranger), grpc.status.UNAVAILABLE);
    assert.equal(t.received.length, 1);
  } finally {
    await t.stop();
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test("otlp grpc TLS: min_version 1.3 refuses a TLS 1.2 client", async () => {
  const certs = await makeTestCerts();
  const t = await startTestServer(tlsConfig(certs, { min_version: "1.3" }));
  const ca = read(certs.caFile);
  const upTo = (maxVersion: "TLSv1.2" | "TLSv1.3") =>
    grpc.credentials.createFromSecureContext(createSecureContext({ ca, maxVersion }));
  try {
    assert.equal(await call(t.server.port, upTo("TLSv1.2")), grpc.status.UNAVAILABLE);
    assert.equal(await call(t.server.port, upTo("TLSv1.3")), grpc.status.OK);
  } finally {
    await t.stop();
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test("otlp grpc TLS: reload_interval picks up a new certificate; unusable files keep the old", async () => {
  const certs = await makeTestCerts();
  const next = await makeTestCerts(); // another CA and server certificate
  const dir = await Deno.makeTempDir();
  const cert = `${dir}/server.pem`;
  const key = `${dir}/server.key`;
  await Deno.copyFile(certs.serverCertFile, cert);
  await Deno.copyFile(certs.serverKeyFile, key);
  const t = await startTestServer({
    tls: { cert_file: cert, key_file: key, reload_interval: "20ms" },
  });
  const trustsOld = grpc.credentials.createSsl(read(certs.caFile));
  const trustsNew = grpc.credentials.createSsl(read(next.caFile));
  try {
    assert.equal(await call(t.server.port, trustsOld), grpc.status.OK);
    // Half-way through a rotation: the new certificate beside the old key cannot be used.
    await Deno.copyFile(next.serverCertFile, cert);
    await logged(t.logLines, "Cannot reload the TLS files");
    assert.equal(await call(t.server.port, trustsOld), grpc.status.OK, "the old pair still serves");
    await Deno.copyFile(next.serverKeyFile, key);
    await logged(t.logLines, "TLS certificate reloaded");
    assert.equal(await call(t.server.port, trustsNew), grpc.status.OK);
    assert.equal(await call(t.server.port, trustsOld), grpc.status.UNAVAILABLE);
  } finally {
    await t.stop();
    for (const d of [certs.dir, next.dir, dir]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("otlp grpc TLS: unreadable or unusable files fail start, naming the section", async () => {
  const certs = await makeTestCerts();
  try {
    await assert.rejects(
      startTestServer({
        tls: { cert_file: "/nonexistent/cert.pem", key_file: certs.serverKeyFile },
      }),
      /receivers::otlp::protocols::grpc::tls::cert_file: cannot read "\/nonexistent\/cert\.pem"/,
    );
    await assert.rejects(
      startTestServer({ tls: { cert_file: certs.serverCertFile, key_file: certs.clientKeyFile } }),
      /receivers::otlp::protocols::grpc::tls: the key does not belong to the certificate/,
    );
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});
