import assert from "node:assert/strict";
import https from "node:https";
import zlib from "node:zlib";
import { ByteBudget } from "../admission.ts";
import type { ServerAuthenticator } from "../auth.ts";
import type { Extension, Host } from "../component.ts";
import { fromPlain } from "../config/node.ts";
import { ConfigIssues, ConfigReader } from "../config/reader.ts";
import { nopLogger } from "../telemetry/logger.ts";
import { makeTestCerts } from "../../tests/fakes/otlp_sink.ts";
import {
  defaultServerConfig,
  type HttpServer,
  parseServerConfig,
  type RequestHandler,
  type ServerConfig,
  startHttpServer,
} from "./mod.ts";

function config(plain: Record<string, unknown>): ServerConfig {
  const issues = new ConfigIssues();
  const r = new ConfigReader(fromPlain(plain), "test", issues);
  const cfg = parseServerConfig(r, defaultServerConfig("127.0.0.1:0"));
  r.done();
  assert.deepEqual(issues.errors, []);
  return cfg;
}

function hostWith(extensions: Record<string, Extension>): Host {
  return { getExtension: (id) => extensions[id], reportFatalError: () => {} };
}

/** Echoes what the handler saw as JSON. */
const echo: RequestHandler = async (req) => {
  const body = await req.body();
  return Response.json({
    path: req.path,
    bytes: body.length,
    text: new TextDecoder().decode(body.subarray(0, 100)),
    addr: req.client.addr,
    metadata: req.client.metadata ? Object.fromEntries(req.client.metadata) : null,
    auth: req.client.auth ?? null,
  });
};

async function withServer(
  plain: Record<string, unknown>,
  fn: (s: HttpServer) => Promise<void>,
  host?: Host,
  handler: RequestHandler = echo,
): Promise<void> {
  const s = await startHttpServer(config(plain), handler, {
    name: "test",
    logger: nopLogger(),
    host,
  });
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

Deno.test("server: decompresses, reports the peer address, answers 400 for bad encodings", async () => {
  await withServer(
    { endpoint: "127.0.0.1:0" },
    async (s) => {
      const post = (body: Uint8Array<ArrayBuffer> | string, headers: Record<string, string> = {}) =>
        fetch(`${s.url}/x`, { method: "POST", body, headers });
      let res = await post(new Uint8Array(zlib.gzipSync(new TextEncoder().encode("hello"))), {
        "content-encoding": "gzip",
      });
      const got = await res.json();
      assert.equal(res.status, 200);
      assert.deepEqual([got.path, got.text, got.addr, got.metadata], [
        "/x",
        "hello",
        "127.0.0.1",
        null,
      ]);
      res = await post("x", { "content-encoding": "br" });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /unsupported Content-Encoding: br/);
      res = await post("not gzip", { "content-encoding": "gzip" });
      assert.equal(res.status, 200, "the handler decides how to answer a BodyError");
    },
    undefined,
    async (req) => {
      try {
        return await echo(req);
      } catch (err) {
        return new Response(String(err), { status: 200 });
      }
    },
  );
});

Deno.test("server: compression_algorithms limits the accepted encodings", async () => {
  await withServer({ endpoint: "127.0.0.1:0", compression_algorithms: [""] }, async (s) => {
    const res = await fetch(s.url, {
      method: "POST",
      body: new Uint8Array(zlib.gzipSync(new Uint8Array(3))),
      headers: { "content-encoding": "gzip" },
    });
    assert.equal(res.status, 400);
    await res.body?.cancel();
  });
});

Deno.test("server: include_metadata passes lower-cased headers; response_headers are set", async () => {
  await withServer({
    endpoint: "127.0.0.1:0",
    include_metadata: true,
    response_headers: { "X-Served-By": "test" },
  }, async (s) => {
    const res = await fetch(s.url, {
      method: "POST",
      body: "b",
      headers: { "X-Scope-OrgID": "tenant-a" },
    });
    const got = await res.json();
    assert.deepEqual(got.metadata["x-scope-orgid"], ["tenant-a"]);
    assert.ok(got.metadata["host"]);
    assert.equal(res.headers.get("x-served-by"), "test");
  });
});

Deno.test("server: auth::authenticator admits with an identity or answers 401", async () => {
  const seen: string[] = [];
  const auth: ServerAuthenticator = {
    start: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    authenticate(headers) {
      const token = headers.get("authorization")?.[0] ?? headers.get("token")?.[0];
      seen.push(token ?? "");
      return token === "Bearer good" || token === "good"
        ? Promise.resolve({ subject: "alice" })
        : Promise.reject(new Error("invalid token"));
    },
  };
  const host = hostWith({ "bearertokenauth/in": auth });
  await withServer({
    endpoint: "127.0.0.1:0",
    auth: { authenticator: "bearertokenauth/in", request_params: ["token"] },
  }, async (s) => {
    let res = await fetch(s.url, {
      method: "POST",
      body: "x",
      headers: { authorization: "Bearer good" },
    });
    assert.deepEqual((await res.json()).auth, { subject: "alice" });
    res = await fetch(`${s.url}/?token=good`, { method: "POST", body: "x" });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    res = await fetch(s.url, { method: "POST", body: "x", headers: { authorization: "bad" } });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /invalid token/);
  }, host);
  await assert.rejects(
    startHttpServer(config({ auth: { authenticator: "missing" } }), echo, {
      name: "test",
      logger: nopLogger(),
      host,
    }),
    /Authenticator "missing" is not running/,
  );
});

Deno.test("server: CORS preflight and actual requests", async () => {
  await withServer({
    endpoint: "127.0.0.1:0",
    cors: {
      allowed_origins: ["https://*.example.com"],
      allowed_headers: ["X-Custom"],
      exposed_headers: ["X-Out"],
      max_age: 7200,
    },
  }, async (s) => {
    const preflight = (origin: string, headers = "content-type, x-custom") =>
      fetch(s.url, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": headers,
        },
      });
    let res = await preflight("https://app.example.com");
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.equal(res.headers.get("access-control-allow-methods"), "POST");
    assert.equal(res.headers.get("access-control-allow-headers"), "content-type, x-custom");
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    assert.equal(res.headers.get("access-control-max-age"), "7200");
    res = await preflight("https://evil.test");
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    res = await preflight("https://app.example.com", "x-other");
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    res = await fetch(s.url, {
      method: "POST",
      body: "x",
      headers: { origin: "https://app.example.com" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.equal(res.headers.get("access-control-expose-headers"), "X-Out");
    await res.body?.cancel();
  });
});

Deno.test("server: max_request_body_size and read_timeout end the body read", async () => {
  await withServer(
    { endpoint: "127.0.0.1:0", max_request_body_size: 1000, read_timeout: "200ms" },
    async (s) => {
      let res = await fetch(s.url, { method: "POST", body: new Uint8Array(1001) });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /too large/);
      // One byte then nothing: the read ends at read_timeout instead of waiting forever.
      const { port } = new URL(s.url);
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
      await conn.write(
        new TextEncoder().encode("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\na"),
      );
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      assert.match(
        new TextDecoder().decode(buf.subarray(0, n ?? 0)),
        /^HTTP\/1.1 400[^]*read_timeout/,
      );
      conn.close();
      res = await fetch(s.url, { method: "POST", body: "still serving" });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    },
    undefined,
    async (req) => {
      try {
        return await echo(req);
      } catch (err) {
        return new Response((err as Error).message, { status: 400 });
      }
    },
  );
});

Deno.test("server: TLS, mTLS (client_ca_file) and certificate reload", async () => {
  const certs = await makeTestCerts();
  try {
    const ca = certs.caPem;
    const client = (cert?: string, key?: string) =>
      Deno.createHttpClient({
        caCerts: [ca],
        ...(cert && key
          ? { cert: Deno.readTextFileSync(cert), key: Deno.readTextFileSync(key) }
          : {}),
      });
    // Plain TLS on Deno.serve.
    await withServer({
      endpoint: "127.0.0.1:0",
      tls: { cert_file: certs.serverCertFile, key_file: certs.serverKeyFile },
    }, async (s) => {
      assert.ok(s.url.startsWith("https://"));
      const c = client();
      const res = await fetch(s.url.replace("127.0.0.1", "localhost"), {
        method: "POST",
        body: "tls",
        client: c,
      });
      assert.equal((await res.json()).text, "tls");
      c.close();
    });
    // mTLS on node:https: a client certificate from the CA is required.
    const certFile = `${certs.dir}/reload.pem`;
    const keyFile = `${certs.dir}/reload.key`;
    await Deno.copyFile(certs.serverCertFile, certFile);
    await Deno.copyFile(certs.serverKeyFile, keyFile);
    await withServer({
      endpoint: "127.0.0.1:0",
      tls: {
        cert_file: certFile,
        key_file: keyFile,
        client_ca_file: certs.caFile,
        reload_interval: "50ms",
      },
    }, async (s) => {
      const url = s.url.replace("127.0.0.1", "localhost");
      const good = client(certs.clientCertFile, certs.clientKeyFile);
      let res = await fetch(url, { method: "POST", body: "mtls", client: good });
      const got = await res.json();
      assert.deepEqual([got.text, got.addr], ["mtls", "127.0.0.1"]);
      for (const c of [client(), client(certs.strangerCertFile, certs.strangerKeyFile)]) {
        await assert.rejects(fetch(url, { method: "POST", body: "x", client: c }));
        c.close();
      }
      // Replace the server certificate with one from another CA: new handshakes use it.
      await Deno.copyFile(certs.strangerCertFile, certFile);
      await Deno.copyFile(certs.strangerKeyFile, keyFile);
      let refused = false;
      for (let i = 0; i < 100 && !refused; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const fresh = client(certs.clientCertFile, certs.clientKeyFile);
        try {
          res = await fetch(url, { method: "POST", body: "x", client: fresh });
          await res.body?.cancel();
        } catch {
          refused = true; // the new certificate does not chain to the CA the client trusts
        }
        fresh.close();
      }
      assert.ok(refused, "the reloaded certificate is served");
      good.close();
    });
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test("parseServerConfig: upstream defaults and errors naming the key", () => {
  const def = defaultServerConfig("localhost:4318");
  assert.equal(def.maxRequestBodySize, 20 * 1024 * 1024);
  assert.deepEqual(def.compressionAlgorithms, ["", "gzip", "zstd", "zlib", "deflate"]);
  const issues = new ConfigIssues();
  const r = new ConfigReader(
    fromPlain({
      endpoint: "nohostport",
      compression_algorithms: ["snappy"],
      tls: { cert_file: "a.pem" },
      middlewares: [{ id: "x" }],
      idle_timeout: "10s",
    }),
    "receivers::otlp::protocols::http",
    issues,
  );
  parseServerConfig(r, def);
  r.done();
  const text = issues.list.map((i) => `${i.severity} ${i.path}: ${i.message}`).join("\n");
  assert.match(text, /error receivers::otlp::protocols::http::endpoint: Invalid endpoint/);
  assert.match(text, /compression_algorithms: "snappy" is not supported yet/);
  assert.match(text, /::tls: A certificate needs its key/);
  assert.match(text, /middlewares: "middlewares" is not supported yet/);
  assert.match(text, /warning receivers::otlp::protocols::http::idle_timeout: Not enforced/);
});

Deno.test("server: close ends even with a client stuck mid-body", async () => {
  const s = await startHttpServer(config({ endpoint: "127.0.0.1:0" }), echo, {
    name: "test",
    logger: nopLogger(),
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(s.url).port) });
  await conn.write(
    new TextEncoder().encode("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 9\r\n\r\na"),
  );
  await new Promise((r) => setTimeout(r, 100));
  await s.close(); // would wait for ever on Deno's graceful shutdown alone
  assert.equal(await conn.read(new Uint8Array(100)).catch(() => null), null, "dropped");
  conn.close();
});

/** Status of a POST through node:https capped at `maxVersion`, or the TLS error's message. */
function postWithTls(url: string, ca: string, maxVersion: "TLSv1.2" | "TLSv1.3"): Promise<string> {
  return new Promise((resolve) => {
    const req = https.request(url, { method: "POST", ca, maxVersion }, (res) => {
      res.resume();
      res.on("end", () => resolve(String(res.statusCode)));
    });
    req.on("error", (err) => resolve(err.message));
    req.end("x");
  });
}

Deno.test("server: tls::min_version 1.3 refuses TLS 1.2 clients", async () => {
  const certs = await makeTestCerts();
  try {
    for (const [min, tls12] of [["1.2", "200"], ["1.3", "error"]] as const) {
      await withServer({
        endpoint: "127.0.0.1:0",
        tls: { cert_file: certs.serverCertFile, key_file: certs.serverKeyFile, min_version: min },
      }, async (s) => {
        const url = s.url.replace("127.0.0.1", "localhost");
        assert.equal(await postWithTls(url, certs.caPem, "TLSv1.3"), "200");
        const got = await postWithTls(url, certs.caPem, "TLSv1.2");
        assert.equal(got === "200" ? "200" : "error", tls12, got);
      });
    }
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});

Deno.test("bodyBudget: bodies read at once (wire and decompressed) never hold more than the budget, and all are served", async () => {
  const limit = 250_000;
  const budget = new ByteBudget(limit);
  let held = 0;
  let maxHeld = 0;
  const handler: RequestHandler = async (req) => {
    const body = await req.body();
    held += body.length;
    maxHeld = Math.max(maxHeld, held);
    await new Promise((r) => setTimeout(r, 20)); // decoding, say: the bytes stay taken
    held -= body.length;
    req.releaseBody();
    return new Response(String(body.length));
  };
  const s = await startHttpServer(config({ max_request_body_size: 100_000 }), handler, {
    name: "test",
    logger: nopLogger(),
    bodyBudget: budget,
  });
  try {
    const raw = new TextEncoder().encode(
      Array.from({ length: 10_000 }, (_, i) => `line ${(i * 7919) % 10007}`).join("\n"),
    ).subarray(0, 90_000);
    const gz = new Uint8Array(zlib.gzipSync(raw));
    const answers = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
      const res = await fetch(`${s.url}/`, {
        method: "POST",
        headers: i % 2 === 0 ? { "content-encoding": "gzip" } : {},
        body: i % 2 === 0 ? gz : raw,
      });
      return `${res.status} ${await res.text()}`;
    }));
    assert.deepEqual(answers, Array(12).fill("200 90000"));
    // 12 bodies of 90 kB would be 1 MB held at once without the budget.
    assert.ok(maxHeld <= limit, `bodies held at once: ${maxHeld}`);
    assert.ok(budget.peak <= limit, `budget peak ${budget.peak}`);
    assert.ok(maxHeld >= 180_000, `the budget was used: ${maxHeld}`);
    assert.equal(budget.inUse, 0, "every request gave its bytes back");
  } finally {
    await s.close();
  }
});
