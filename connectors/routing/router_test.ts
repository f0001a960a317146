import assert from "node:assert/strict";
import { isPermanent, PermanentError, RetryableError } from "../../core/consumer.ts";
import { type ConsumeContext } from "../../core/consumer.ts";
import { newScope, stringValue } from "../../core/pdata/logs.ts";
import { attrs, batch, bodiesIn, bodiesOf, connector, rec, sink } from "./_testing.ts";

const NS = (ns: string) => ({ "k8s.namespace.name": ns });

const BY_NAMESPACE = {
  default_pipelines: ["logs/other"],
  table: [
    { condition: 'attributes["k8s.namespace.name"] == "a"', pipelines: ["logs/a"] },
    { condition: 'resource.attributes["k8s.namespace.name"] == "b"', pipelines: ["logs/b"] },
  ],
};

Deno.test("resource context: each resource's records go to the route its resource matches", async () => {
  const [a, b, other] = [sink(), sink(), sink()];
  const { connector: c } = connector(BY_NAMESPACE, {
    "logs/a": a,
    "logs/b": b,
    "logs/other": other,
  });
  const ctx: ConsumeContext = { client: { addr: "10.0.0.1" } };
  await c.consume(
    batch(
      [NS("a"), [rec("a1"), rec("a2")]],
      [NS("b"), [rec("b1")]],
      [NS("c"), [rec("c1")]],
      [{}, [rec("none")]],
      [NS("a"), [rec("a3")]],
    ),
    ctx,
  );
  assert.deepEqual(bodiesOf(a), ["a1", "a2", "a3"]);
  assert.deepEqual(bodiesOf(b), ["b1"]);
  assert.deepEqual(bodiesOf(other), ["c1", "none"]);
  for (const s of [a, b, other]) {
    assert.equal(s.calls.length, 1, "one call per pipeline per batch");
    assert.equal(s.calls[0]!.ctx, ctx, "the context is passed on unchanged");
  }
  // The resources travel with their records.
  assert.deepEqual(
    a.calls[0]!.logs.resourceLogs.map((rl) => rl.resource.attributes),
    [attrs(NS("a")), attrs(NS("a"))],
  );
});

Deno.test("log context: records of one resource and scope are split, structure kept", async () => {
  const [errors, rest] = [sink(), sink()];
  const { connector: c } = connector({
    default_pipelines: ["logs/rest"],
    table: [{ context: "log", condition: 'severity_text == "ERROR"', pipelines: ["logs/errors"] }],
  }, { "logs/errors": errors, "logs/rest": rest });
  const err = (body: string) => {
    const r = rec(body);
    r.severityText = "ERROR";
    return r;
  };
  const logs = batch([NS("a"), [rec("i1"), err("e1"), rec("i2")]], [NS("b"), [err("e2")]]);
  logs.resourceLogs[0]!.scopeLogs.push({
    scope: newScope("other-scope"),
    schemaUrl: "https://s",
    logRecords: [err("e3")],
  });
  logs.resourceLogs[0]!.schemaUrl = "https://r";
  await c.consume(logs, {});
  const got = errors.calls[0]!.logs;
  assert.deepEqual(bodiesIn(got), ["e1", "e3", "e2"]);
  assert.equal(got.resourceLogs.length, 2);
  assert.equal(got.resourceLogs[0]!.schemaUrl, "https://r");
  assert.deepEqual(got.resourceLogs[0]!.scopeLogs.map((sl) => [sl.scope.name, sl.schemaUrl]), [
    ["s", ""],
    ["other-scope", "https://s"],
  ]);
  assert.deepEqual(bodiesOf(rest), ["i1", "i2"]);
  assert.equal(rest.calls[0]!.logs.resourceLogs.length, 1, "no empty resource for b");
});

Deno.test("request context: a matching route takes the whole remaining batch; any header value counts", async () => {
  const [acme, ecorp, other] = [sink(), sink(), sink()];
  const table = {
    default_pipelines: ["logs/other"],
    table: [
      { context: "request", condition: 'request["X-Tenant"] == "acme"', pipelines: ["logs/acme"] },
      {
        context: "request",
        condition: 'request["X-Tenant"] == "ecorp"',
        pipelines: ["logs/ecorp"],
      },
    ],
  };
  const { connector: c } = connector(table, {
    "logs/acme": acme,
    "logs/ecorp": ecorp,
    "logs/other": other,
  });
  const withTenant = (...values: string[]): ConsumeContext => ({
    client: { metadata: new Map([["x-tenant", values]]) },
  });
  const first = batch([NS("a"), [rec("1"), rec("2")]], [NS("b"), [rec("3")]]);
  await c.consume(first, withTenant("acme"));
  await c.consume(batch([NS("a"), [rec("4")]]), withTenant("other", "ecorp"));
  await c.consume(batch([NS("a"), [rec("5")]]), {});
  await c.consume(batch([NS("a"), [rec("6")]]), withTenant("nobody"));
  assert.deepEqual(bodiesOf(acme), ["1", "2", "3"]);
  assert.equal(acme.calls[0]!.logs, first, "a whole batch is passed on as it is");
  assert.deepEqual(bodiesOf(ecorp), ["4"]);
  assert.deepEqual(bodiesOf(other), ["5", "6"]);
});

Deno.test("request != : true when any value differs, false without the header (as upstream)", async () => {
  const [hit, other] = [sink(), sink()];
  const { connector: c } = connector({
    default_pipelines: ["logs/other"],
    table: [{
      context: "request",
      condition: 'request["x-tenant"] != "acme"',
      pipelines: ["logs/hit"],
    }],
  }, { "logs/hit": hit, "logs/other": other });
  const md = (...v: string[]) => ({ client: { metadata: new Map([["x-tenant", v]]) } });
  await c.consume(batch([{}, [rec("acme")]]), md("acme"));
  await c.consume(batch([{}, [rec("both")]]), md("acme", "b"));
  await c.consume(batch([{}, [rec("b")]]), md("b"));
  await c.consume(batch([{}, [rec("absent")]]), {});
  assert.deepEqual(bodiesOf(hit), ["both", "b"]);
  assert.deepEqual(bodiesOf(other), ["acme", "absent"]);
});

Deno.test("mixed contexts in table order: first match wins", async () => {
  const [errors, a, tenant, other] = [sink(), sink(), sink(), sink()];
  const { connector: c } = connector({
    default_pipelines: ["logs/other"],
    table: [
      { context: "log", condition: 'attributes["level"] == "error"', pipelines: ["logs/errors"] },
      { condition: 'attributes["k8s.namespace.name"] == "a"', pipelines: ["logs/a"] },
      { context: "request", condition: 'request["x-tenant"] == "t"', pipelines: ["logs/tenant"] },
    ],
  }, { "logs/errors": errors, "logs/a": a, "logs/tenant": tenant, "logs/other": other });
  const logs = batch(
    [NS("a"), [rec("a-err", { level: "error" }), rec("a-info")]],
    [NS("b"), [rec("b-err", { level: "error" }), rec("b-info")]],
  );
  await c.consume(logs, { client: { metadata: new Map([["x-tenant", ["t"]]]) } });
  assert.deepEqual(bodiesOf(errors), ["a-err", "b-err"]);
  assert.deepEqual(bodiesOf(a), ["a-info"]);
  assert.deepEqual(bodiesOf(tenant), ["b-info"], "the request route takes what is left");
  assert.deepEqual(bodiesOf(other), []);
});

Deno.test("match_once: false sends a record to every matching route, once per pipeline", async () => {
  const [prod, east, both, other] = [sink(), sink(), sink(), sink()];
  const table = {
    default_pipelines: ["logs/other"],
    table: [
      { condition: 'attributes["env"] == "prod"', pipelines: ["logs/prod", "logs/both"] },
      { condition: 'attributes["region"] == "east"', pipelines: ["logs/east", "logs/both"] },
    ],
  };
  const sinks = { "logs/prod": prod, "logs/east": east, "logs/both": both, "logs/other": other };
  const logs = () =>
    batch(
      [{ env: "prod", region: "east" }, [rec("prod-east")]],
      [{ env: "prod", region: "west" }, [rec("prod-west")]],
      [{ env: "dev", region: "east" }, [rec("dev-east")]],
      [{ env: "dev", region: "west" }, [rec("dev-west")]],
    );
  const all = connector({ ...table, match_once: false }, sinks).connector;
  await all.consume(logs(), {});
  const sorted = (s: typeof prod) => bodiesOf(s).sort();
  assert.deepEqual(sorted(prod), ["prod-east", "prod-west"]);
  assert.deepEqual(sorted(east), ["dev-east", "prod-east"]);
  assert.deepEqual(sorted(both), ["dev-east", "prod-east", "prod-west"], "each record once");
  assert.deepEqual(sorted(other), ["dev-west"]);
  // One call per set of target pipelines: prod-east (prod, east, both) is not mixed with
  // prod-west (prod, both).
  assert.deepEqual(prod.calls.map((call) => bodiesIn(call.logs)).sort(), [
    ["prod-east"],
    ["prod-west"],
  ]);

  for (const s of [prod, east, both, other]) s.calls.length = 0;
  const first = connector(table, sinks).connector;
  await first.consume(logs(), {});
  assert.deepEqual(bodiesOf(prod), ["prod-east", "prod-west"]);
  assert.deepEqual(bodiesOf(east), ["dev-east"], "prod-east went to the first route only");
  assert.deepEqual(bodiesOf(both), ["prod-east", "prod-west", "dev-east"]);
  assert.deepEqual(bodiesOf(other), ["dev-west"]);
});

Deno.test("no calls mix records of different target sets; routes with the same pipelines share a call", async () => {
  const [x, y] = [sink(), sink()];
  const { connector: c } = connector({
    table: [
      { condition: 'attributes["n"] == "1"', pipelines: ["logs/x"] },
      { condition: 'attributes["n"] == "2"', pipelines: ["logs/x", "logs/y"] },
      { condition: 'attributes["n"] == "3"', pipelines: ["logs/x"] },
    ],
  }, { "logs/x": x, "logs/y": y });
  await c.consume(
    batch([{ n: "1" }, [rec("1")]], [{ n: "2" }, [rec("2")]], [{ n: "3" }, [rec("3")]]),
    {},
  );
  assert.deepEqual(x.calls.map((call) => bodiesIn(call.logs)), [["1", "3"], ["2"]]);
  assert.deepEqual(y.calls.map((call) => bodiesIn(call.logs)), [["2"]]);
});

Deno.test("without default_pipelines, what matches nothing is dropped and logged at debug", async () => {
  const a = sink();
  const { connector: c, logged } = connector(
    { table: [{ condition: 'attributes["k8s.namespace.name"] == "a"', pipelines: ["logs/a"] }] },
    { "logs/a": a },
  );
  await c.consume(batch([NS("a"), [rec("a1")]], [NS("b"), [rec("b1"), rec("b2")]]), {});
  assert.deepEqual(bodiesOf(a), ["a1"]);
  await c.consume(batch([NS("b"), [rec("b3")]]), {});
  assert.equal(a.calls.length, 1, "nothing to hand on: no call");
  const drops = logged.filter((l) => l.includes("matched no route"));
  assert.equal(drops.length, 2);
  assert.match(drops[0]!, /\tdebug\t.*"dropped":2/);
  assert.match(drops[1]!, /"dropped":1/);
});

Deno.test("a batch going wholly to one route is passed on as it is, without copying", async () => {
  const [a, other] = [sink(true), sink()];
  const { connector: c } = connector(BY_NAMESPACE, {
    "logs/a": a,
    "logs/b": sink(),
    "logs/other": other,
  });
  const logs = batch([NS("a"), [rec("1")]], [NS("a"), [rec("2")]]);
  await c.consume(logs, {});
  assert.equal(a.calls[0]!.logs, logs);
  const rest = batch([NS("x"), [rec("3")]]);
  await c.consume(rest, {});
  assert.equal(other.calls[0]!.logs, rest, "to the default pipelines too");
});

Deno.test("a pipeline that changes data gets its own copy; split resources are not shared with it", async () => {
  const [mutating, readOnly, rest] = [sink(true), sink(false), sink(false)];
  const { connector: c } = connector({
    default_pipelines: ["logs/rest"],
    table: [{ context: "log", condition: 'body == "x"', pipelines: ["logs/mut", "logs/ro"] }],
  }, { "logs/mut": mutating, "logs/ro": readOnly, "logs/rest": rest });
  assert.equal(c.mutatesData, true, "so a fan-out in front copies a shared batch for it");
  const logs = batch([NS("a"), [rec("x"), rec("y")]]);
  const [x, y] = logs.resourceLogs[0]!.scopeLogs[0]!.logRecords;
  await c.consume(logs, {});
  const m = mutating.calls[0]!.logs.resourceLogs[0]!;
  const r = readOnly.calls[0]!.logs.resourceLogs[0]!;
  const d = rest.calls[0]!.logs.resourceLogs[0]!;
  assert.deepEqual(bodiesIn(mutating.calls[0]!.logs), ["x"]);
  assert.deepEqual(bodiesIn(readOnly.calls[0]!.logs), ["x"]);
  assert.notEqual(m.scopeLogs[0]!.logRecords[0], r.scopeLogs[0]!.logRecords[0]);
  assert.equal(r.scopeLogs[0]!.logRecords[0], x, "the read-only pipeline may share the original");
  assert.equal(d.scopeLogs[0]!.logRecords[0], y);
  // The resource and scope of the split resource: three objects, one per pipeline.
  const resources = new Set([m.resource, r.resource, d.resource]);
  assert.equal(resources.size, 3);
  const scopes = new Set([m.scopeLogs[0]!.scope, r.scopeLogs[0]!.scope, d.scopeLogs[0]!.scope]);
  assert.equal(scopes.size, 3);
  m.resource.attributes.push({ key: "changed", value: stringValue("yes") });
  assert.deepEqual(d.resource.attributes, attrs(NS("a")));
});

Deno.test("read-only pipelines share the objects; the connector then reports mutatesData false", async () => {
  const [a, b] = [sink(), sink()];
  const { connector: c } = connector({
    default_pipelines: ["logs/b"],
    table: [{ context: "log", condition: 'body == "x"', pipelines: ["logs/a"] }],
  }, { "logs/a": a, "logs/b": b });
  assert.equal(c.mutatesData, false);
  const logs = batch([NS("a"), [rec("x"), rec("y")]]);
  await c.consume(logs, {});
  assert.equal(
    a.calls[0]!.logs.resourceLogs[0]!.resource,
    b.calls[0]!.logs.resourceLogs[0]!.resource,
  );
  assert.equal(
    logs.resourceLogs[0]!.scopeLogs[0]!.logRecords.length,
    2,
    "the input is not changed",
  );
});

const INT_NAMESPACE = {
  default_pipelines: ["logs/other"],
  table: [
    { condition: 'HasPrefix(attributes["ns"], "team-")', pipelines: ["logs/team"] },
    { condition: 'attributes["ns"] == "b"', pipelines: ["logs/b"] },
  ],
};

function errorBatch() {
  const logs = batch([{ ns: "team-1" }, [rec("team")]], [{}, [rec("int")]], [{ ns: "b" }, [
    rec("b"),
  ]]);
  // HasPrefix on an int is an evaluation error.
  logs.resourceLogs[1]!.resource.attributes.push({ key: "ns", value: { kind: "int", value: 7n } });
  return logs;
}

Deno.test("error_mode propagate: the batch is refused permanently and no pipeline got anything", async () => {
  const [team, b, other] = [sink(), sink(), sink()];
  const { connector: c } = connector(INT_NAMESPACE, {
    "logs/team": team,
    "logs/b": b,
    "logs/other": other,
  });
  await assert.rejects(c.consume(errorBatch(), {}), (err: Error) => {
    assert.ok(err instanceof PermanentError);
    assert.match(
      err.message,
      /^routing connector: route #0 \(resource context\) condition 'HasPrefix\(attributes\["ns"\], "team-"\)': /,
    );
    return true;
  });
  assert.equal(team.calls.length + b.calls.length + other.calls.length, 0);
});

Deno.test("error_mode ignore: the failing route does not match (later routes and the default still do), with a warning", async () => {
  for (const mode of ["ignore", "silent"]) {
    const [team, b, other] = [sink(), sink(), sink()];
    const { connector: c, logged } = connector({ ...INT_NAMESPACE, error_mode: mode }, {
      "logs/team": team,
      "logs/b": b,
      "logs/other": other,
    });
    await c.consume(errorBatch(), {});
    assert.deepEqual(bodiesOf(team), ["team"]);
    assert.deepEqual(bodiesOf(b), ["b"]);
    assert.deepEqual(bodiesOf(other), ["int"], mode);
    const warnings = logged.filter((l) => l.includes("\twarn\t"));
    if (mode === "ignore") {
      assert.equal(warnings.length, 1);
      assert.match(
        warnings[0]!,
        /Conditions failed and were treated as not matching.*1 error; first: route #0/,
      );
    } else assert.deepEqual(warnings, []);
  }
});

Deno.test("downstream errors: every consume awaited; a part one pipeline accepted is not sent to it again", async () => {
  const [a, b] = [sink(), sink()];
  const slept: number[] = [];
  const { connector: c } = connector(BY_NAMESPACE, {
    "logs/a": a,
    "logs/b": b,
    "logs/other": sink(),
  }, {
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
  });
  b.script.push(new RetryableError("b is down"));
  await c.consume(batch([NS("a"), [rec("a1")]], [NS("b"), [rec("b1")]]), {});
  assert.deepEqual(bodiesOf(a), ["a1"], "a got its part once");
  assert.deepEqual(bodiesOf(b), ["b1", "b1"], "b's part was retried");
  assert.equal(slept.length, 1);
});

Deno.test("downstream errors: retryable when any part may succeed on a retry, permanent otherwise", async () => {
  const two = () => batch([NS("a"), [rec("a1")]], [NS("b"), [rec("b1")]]);
  const refusing = async (errA: Error, errB: Error) => {
    const [a, b] = [sink(), sink()];
    a.script.push(errA);
    b.script.push(errB);
    // Retries of a refusing part give up at once here (retryMs 0).
    const { connector: c } = connector(BY_NAMESPACE, {
      "logs/a": a,
      "logs/b": b,
      "logs/other": sink(),
    }, {
      retryMs: 0,
      sleep: () => Promise.resolve(),
    });
    let error: unknown;
    await c.consume(two(), {}).catch((err) => (error = err));
    assert.equal(a.calls.length + b.calls.length, 2, "both parts were handed on");
    assert.ok(error instanceof Error);
    return error;
  };
  assert.ok(!isPermanent(await refusing(new PermanentError("a"), new RetryableError("b"))));
  assert.ok(isPermanent(await refusing(new PermanentError("a"), new PermanentError("b"))));
  assert.ok(!isPermanent(await refusing(new RetryableError("a"), new RetryableError("b"))));
});

Deno.test("a route without a context whose paths name the log context routes record by record", async () => {
  const [errors, rest] = [sink(), sink()];
  const { connector: c } = connector({
    default_pipelines: ["logs/rest"],
    table: [{ condition: 'log.attributes["level"] == "error"', pipelines: ["logs/errors"] }],
  }, { "logs/errors": errors, "logs/rest": rest });
  await c.consume(batch([NS("a"), [rec("e", { level: "error" }), rec("i")]]), {});
  assert.deepEqual(bodiesOf(errors), ["e"]);
  assert.deepEqual(bodiesOf(rest), ["i"]);
});
