import assert from "node:assert/strict";
import { parseWith } from "../../tests/fakes/component_harness.ts";
import { parseHeadersSetterConfig } from "./config.ts";
import { HeadersSetter } from "./extension.ts";

function setter(headers: unknown[]): HeadersSetter {
  const { config, issues } = parseWith(
    parseHeadersSetterConfig,
    { headers },
    "extensions::headers_setter",
  );
  assert.deepEqual(issues.filter((i) => i.severity === "error"), []);
  return new HeadersSetter(config);
}

Deno.test("headers_setter: insert, update, upsert and delete against the request's headers", async () => {
  const s = setter([
    { key: "X-Insert", action: "insert", value: "i" },
    { key: "X-Present", action: "insert", value: "not used" },
    { key: "X-Update", action: "update", value: "u" },
    { key: "X-Present2", action: "update", value: "updated" },
    { key: "X-Upsert", action: "upsert", value: "up" },
    { key: "Authorization", action: "delete" },
  ]);
  const headers: Record<string, string> = {
    "x-present": "p",
    "x-present2": "p2",
    authorization: "Bearer t",
  };
  await s.applyRequestHeaders(headers);
  assert.deepEqual(headers, {
    "x-present": "p",
    "x-present2": "updated",
    "x-insert": "i",
    "x-upsert": "up",
  });
});

Deno.test("headers_setter: from_context, default_value, from_attribute; several values are an error", async () => {
  const s = setter([
    { key: "X-Scope-OrgID", action: "upsert", from_context: "X-Tenant", default_value: "none" },
    { key: "X-Subject", action: "upsert", from_attribute: "subject" },
  ]);
  assert.deepEqual(
    await s.getRequestHeaders({
      metadata: new Map([["x-tenant", ["acme"]]]),
      auth: { subject: "svc" },
    }),
    { "x-scope-orgid": "acme", "x-subject": "svc" },
  );
  assert.deepEqual(await s.getRequestHeaders(), { "x-scope-orgid": "none", "x-subject": "" });
  await assert.rejects(
    s.getRequestHeaders({ metadata: new Map([["x-tenant", ["a", "b"]]]) }),
    /2 values of "X-Tenant" .*cannot determine which one to use/,
  );
});

Deno.test("headers_setter config: errors name the header's index; a missing action warns and upserts", () => {
  const { issues } = parseWith(parseHeadersSetterConfig, {
    headers: [
      { action: "upsert", value: "x" },
      { key: "A", action: "upsert" },
      { key: "B", action: "insert", value: "x", from_context: "y" },
      { key: "C", action: "replace", value: "x" },
      { key: "D", value: "x" },
    ],
  }, "extensions::headers_setter");
  const text = issues.map((i) => `${i.severity} ${i.path}: ${i.message}`);
  assert.deepEqual(text.length, 5, text.join("\n"));
  assert.match(text[0]!, /^error extensions::headers_setter::headers::0::key: Missing header name/);
  assert.match(text[1]!, /^error extensions::headers_setter::headers::1: Missing header source/);
  assert.match(
    text[2]!,
    /^error extensions::headers_setter::headers::2: Conflicting header sources "value", "from_context"/,
  );
  assert.match(
    text[3]!,
    /^error extensions::headers_setter::headers::3::action: Invalid value "replace"/,
  );
  assert.match(
    text[4]!,
    /^warning extensions::headers_setter::headers::4: No "action": using "upsert"/,
  );

  const none = parseWith(parseHeadersSetterConfig, {}, "extensions::headers_setter").issues;
  assert.match(none[0]!.message, /Missing headers configuration/);
});
