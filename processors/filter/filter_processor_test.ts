import assert from "node:assert/strict";
import { isPermanent } from "../../core/consumer.ts";
import {
  type AnyValue,
  type LogRecord,
  logRecordCount,
  type Logs,
  newLogRecord,
  newResource,
  newScope,
  stringValue,
} from "../../core/pdata/logs.ts";
import { Prng } from "../../core/pdata/testing.ts";
import { capture, parseWith, testSettings } from "../../tests/fakes/component_harness.ts";
import { parseFilterConfig } from "./config.ts";
import { FILTERED_METRIC, FilterProcessor } from "./filter_processor.ts";

const NAMESPACES = ["kube-system", "default", "payments", undefined];

/** A random batch: resources per namespace, scopes, records with an `id` attribute. */
function randomBatch(p: Prng, nextId: { n: number }): Logs {
  return {
    resourceLogs: Array.from({ length: 1 + p.int(4) }, () => {
      const ns = p.pick(NAMESPACES);
      return {
        schemaUrl: "",
        resource: newResource(
          ns === undefined ? [] : [{ key: "k8s.namespace.name", value: stringValue(ns) }],
        ),
        scopeLogs: Array.from({ length: 1 + p.int(3) }, () => ({
          schemaUrl: "",
          scope: newScope(p.pick(["", "app"])),
          logRecords: Array.from({ length: p.int(6) }, () =>
            newLogRecord({
              severityNumber: p.int(25),
              body: stringValue(p.pick(["GET /healthz 200", "payment failed", "ok"])),
              attributes: [{ key: "id", value: { kind: "int", value: BigInt(nextId.n++) } }],
            })),
        })),
      };
    }),
  };
}

function ids(logs: Logs): bigint[] {
  const out: bigint[] = [];
  for (const rl of logs.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        out.push((r.attributes[0]!.value as AnyValue & { kind: "int" }).value);
      }
    }
  }
  return out;
}

function namespaceOf(logs: Logs): Map<bigint, string | undefined> {
  const out = new Map<bigint, string | undefined>();
  for (const rl of logs.resourceLogs) {
    const ns = rl.resource.attributes.find((a) => a.key === "k8s.namespace.name")?.value;
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        out.set(
          (r.attributes[0]!.value as AnyValue & { kind: "int" }).value,
          ns?.kind === "string" ? ns.value : undefined,
        );
      }
    }
  }
  return out;
}

function recordsById(logs: Logs): Map<bigint, LogRecord> {
  const out = new Map<bigint, LogRecord>();
  for (const rl of logs.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        out.set((r.attributes[0]!.value as AnyValue & { kind: "int" }).value, r);
      }
    }
  }
  return out;
}

function makeFilter(plain: unknown) {
  const { config, issues } = parseWith(parseFilterConfig, plain, "processors::filter");
  assert.deepEqual(issues.filter((i) => i.severity === "error"), []);
  const settings = testSettings("filter");
  const next = capture();
  return { proc: new FilterProcessor(settings, config, next), next, settings };
}

Deno.test("filter drops exactly the records a condition matches and removes emptied containers", async () => {
  const { proc, next, settings } = makeFilter({
    logs: {
      log_record: [
        'resource.attributes["k8s.namespace.name"] == "kube-system"',
        'severity_number < SEVERITY_NUMBER_INFO and IsMatch(body, "^GET /healthz")',
      ],
    },
  });
  const p = new Prng(7);
  const nextId = { n: 0 };
  let dropped = 0;
  for (let round = 0; round < 50; round++) {
    const batch = randomBatch(p, nextId);
    const input = recordsById(batch);
    const ns = namespaceOf(batch);
    // The same rule written by hand.
    const wantKept = [...input].filter(([id, r]) =>
      !(ns.get(id) === "kube-system" ||
        (r.severityNumber < 9 &&
          (r.body as AnyValue & { kind: "string" }).value.startsWith("GET /healthz")))
    ).map(([id]) => id);
    dropped += input.size - wantKept.length;
    const before = next.batches.length;
    await proc.consume(batch, {});
    if (wantKept.length === 0) {
      assert.equal(next.batches.length, before, "an emptied batch is not passed on");
      continue;
    }
    const out = next.batches.at(-1)!;
    assert.deepEqual(ids(out), wantKept);
    for (const rl of out.resourceLogs) {
      assert.ok(rl.scopeLogs.length > 0, "no empty resource is left");
      for (const sl of rl.scopeLogs) assert.ok(sl.logRecords.length > 0, "no empty scope is left");
    }
  }
  assert.ok(dropped > 50, `the random batches must drop some records (dropped ${dropped})`);
  assert.equal(
    settings.metrics.value(FILTERED_METRIC, { processor: "filter", filter: "filter" }),
    dropped,
  );
  // Prometheus' text format has no dots in names: rendered with an underscore.
  assert.match(
    settings.metrics.renderPrometheus(),
    new RegExp(
      `^otelcol_processor_filter_logs_filtered_total\\{filter="filter",processor="filter"\\} ${dropped}$`,
      "m",
    ),
  );
});

Deno.test("filter: include/exclude blocks, include checked first", async () => {
  const { proc, next } = makeFilter({
    logs: {
      include: {
        match_type: "regexp",
        resource_attributes: [{ key: "k8s.namespace.name", value: "^pay" }],
      },
      exclude: {
        match_type: "strict",
        bodies: ["ok"],
        severity_number: { min: "warn", match_undefined: true },
      },
    },
  });
  const p = new Prng(11);
  const nextId = { n: 0 };
  for (let round = 0; round < 30; round++) {
    const batch = randomBatch(p, nextId);
    const input = recordsById(batch);
    const ns = namespaceOf(batch);
    const wantKept = [...input].filter(([id, r]) => {
      const included = ns.get(id)?.startsWith("pay") ?? false;
      const sevOk = r.severityNumber === 0 ? true : r.severityNumber >= 13;
      const excluded = (r.body as AnyValue & { kind: "string" }).value === "ok" && sevOk;
      return included && !excluded;
    }).map(([id]) => id);
    const before = next.batches.length;
    await proc.consume(batch, {});
    const out = next.batches.length > before ? ids(next.batches.at(-1)!) : [];
    assert.deepEqual(out, wantKept);
  }
});

Deno.test("filter: record_attributes need every key; severity_texts need any", async () => {
  const { proc, next } = makeFilter({
    logs: {
      exclude: {
        match_type: "strict",
        record_attributes: [{ key: "a", value: 1 }, { key: "b" }],
        severity_texts: ["DEBUG", "TRACE"],
      },
    },
  });
  const rec = (id: number, text: string, attrs: [string, AnyValue][]): LogRecord =>
    newLogRecord({
      severityText: text,
      attributes: [
        { key: "id", value: { kind: "int", value: BigInt(id) } },
        ...attrs.map(([key, value]) => ({ key, value })),
      ],
    });
  const one: AnyValue = { kind: "int", value: 1n };
  const batch: Logs = {
    resourceLogs: [{
      schemaUrl: "",
      resource: newResource(),
      scopeLogs: [{
        schemaUrl: "",
        scope: newScope(),
        logRecords: [
          rec(0, "DEBUG", [["a", one], ["b", stringValue("x")]]), // dropped
          rec(1, "TRACE", [["a", one]]), // kept: no "b"
          rec(2, "INFO", [["a", one], ["b", stringValue("x")]]), // kept: text
          rec(3, "DEBUG", [["a", { kind: "double", value: 1 }], ["b", one]]), // kept: 1.0 is not 1
        ],
      }],
    }],
  };
  await proc.consume(batch, {});
  assert.deepEqual(ids(next.batches[0]!), [1n, 2n, 3n]);
});

function errorBatch(): Logs {
  return {
    resourceLogs: [{
      schemaUrl: "",
      resource: newResource(),
      scopeLogs: [{
        schemaUrl: "",
        scope: newScope(),
        logRecords: [
          newLogRecord({ body: stringValue("drop me") }),
          newLogRecord({ body: { kind: "int", value: 3n } }),
          newLogRecord({ body: stringValue("keep") }),
        ],
      }],
    }],
  };
}

Deno.test("filter error_mode: propagate rejects the batch permanently; ignore and silent treat the condition as false", async () => {
  const conditions = ['HasPrefix(body, "drop")', "body == 3"];
  const propagate = makeFilter({ logs: { log_record: conditions } });
  await assert.rejects(
    propagate.proc.consume(errorBatch(), {}),
    (err: unknown) =>
      isPermanent(err) && /1 error .*expected string but got int64/.test(String(err)),
  );
  assert.equal(propagate.next.batches.length, 0);
  for (const mode of ["ignore", "silent"]) {
    const f = makeFilter({ error_mode: mode, logs: { log_record: conditions } });
    await f.proc.consume(errorBatch(), {});
    // The int body: HasPrefix fails (false), then `body == 3` drops it.
    assert.equal(logRecordCount(f.next.batches[0]!), 1, mode);
  }
});

Deno.test("filter config errors name the path, the position and the column", () => {
  const { issues } = parseWith(parseFilterConfig, {
    error_mode: "loud",
    logs: {
      log_record: ["severity_number > 5", 'attributes["x"] == 1 and Frob(body)'],
      include: { match_type: "strict", bodies: ["x"] },
    },
  }, "processors::filter");
  const text = issues.map((i) => `${i.path}: ${i.message}`).join("\n");
  assert.match(text, /processors::filter::error_mode: Invalid value "loud"/);
  assert.match(text, /processors::filter::logs: Cannot use ottl conditions/);
  assert.match(
    text,
    /processors::filter::logs::log_record::1: Condition .*Unsupported function "Frob".* at column 26/,
  );
  assert.ok(issues.every((i) => i.pos?.file === "config.yaml"));

  const blocks = parseWith(parseFilterConfig, {
    logs: {
      exclude: {
        match_type: "regexp",
        bodies: ["(unclosed"],
        record_attributes: [{ key: "n", value: 1 }],
      },
      include: { bodies: ["x"], severity_number: { min: "LOUD" } },
    },
  }, "processors::filter").issues.map((i) => `${i.path}: ${i.message}`).join("\n");
  assert.match(
    blocks,
    /logs::exclude::record_attributes::0::value: match_type=regexp for "n" only supports string/,
  );
  assert.match(blocks, /logs::include: Missing "match_type"/);
  assert.match(blocks, /logs::include::severity_number::min: "LOUD" is not a valid severity/);
});

Deno.test("filter: a bad regexp in a block is a config error", () => {
  const { issues } = parseWith(parseFilterConfig, {
    logs: { exclude: { match_type: "regexp", bodies: ["(unclosed"] } },
  }, "processors::filter");
  assert.match(
    issues.map((i) => `${i.path}: ${i.message}`).join("\n"),
    /logs::exclude: Invalid pattern: .*\(unclosed/,
  );
});

Deno.test("filter log_conditions (flat): one group, context inferred from the paths, same drops as logs::log_record", async () => {
  const conditions = [
    'resource.attributes["k8s.namespace.name"] == "kube-system"',
    'log.severity_number < SEVERITY_NUMBER_INFO and IsMatch(log.body, "^GET /healthz")',
  ];
  const inferred = makeFilter({ log_conditions: conditions });
  const explicit = makeFilter({
    logs: { log_record: conditions.map((c) => c.replaceAll("log.", "")) },
  });
  const p = new Prng(23);
  const nextId = { n: 0 };
  for (let round = 0; round < 40; round++) {
    const batch = randomBatch(p, nextId);
    const copy = structuredClone(batch);
    await inferred.proc.consume(batch, {});
    await explicit.proc.consume(copy, {});
    assert.deepEqual(inferred.next.batches.map(ids), explicit.next.batches.map(ids));
  }
  assert.ok(
    inferred.next.batches.flatMap(ids).length < nextId.n,
    "the random batches must drop some records",
  );
});

function groupBatch(): Logs {
  const rec = (id: number, body: string, sev = 9): LogRecord =>
    newLogRecord({
      severityNumber: sev,
      body: stringValue(body),
      attributes: [{ key: "id", value: { kind: "int", value: BigInt(id) } }],
    });
  const ns = (n: string) => newResource([{ key: "k8s.namespace.name", value: stringValue(n) }]);
  return {
    resourceLogs: [
      {
        schemaUrl: "",
        resource: ns("kube-system"),
        scopeLogs: [{ schemaUrl: "", scope: newScope("app"), logRecords: [rec(0, "a")] }],
      },
      {
        schemaUrl: "",
        resource: ns("payments"),
        scopeLogs: [
          { schemaUrl: "", scope: newScope("noisy"), logRecords: [rec(1, "a"), rec(2, "b")] },
          {
            schemaUrl: "",
            scope: newScope("app"),
            logRecords: [rec(3, "debug", 5), rec(4, "b"), rec(5, "c")],
          },
        ],
      },
    ],
  };
}

Deno.test("filter log_conditions (groups): resource, scope and log contexts drop at their level, in order", async () => {
  const { proc, next, settings } = makeFilter({
    log_conditions: [
      { context: "resource", conditions: ['attributes["k8s.namespace.name"] == "kube-system"'] },
      { context: "Scope", conditions: ['name == "noisy"'] },
      // Unprefixed paths are read in the written context; prefixed ones keep theirs.
      {
        context: "log",
        conditions: [
          "severity_number < SEVERITY_NUMBER_INFO",
          'body == "c" and scope.name == "app"',
        ],
      },
    ],
  });
  await proc.consume(groupBatch(), {});
  const out = next.batches[0]!;
  assert.deepEqual(ids(out), [4n]);
  assert.equal(out.resourceLogs.length, 1);
  assert.equal(out.resourceLogs[0]!.scopeLogs.length, 1);
  assert.equal(
    settings.metrics.value(FILTERED_METRIC, { processor: "filter", filter: "filter" }),
    5,
  );
});

Deno.test("filter log_conditions: a group's error_mode overrides the processor's", async () => {
  const conditions = ['HasPrefix(log.body, "drop")', "log.body == 3"];
  const ignoring = makeFilter({
    error_mode: "propagate",
    log_conditions: [{ conditions, error_mode: "ignore" }],
  });
  await ignoring.proc.consume(errorBatch(), {});
  assert.equal(logRecordCount(ignoring.next.batches[0]!), 1);
  const propagating = makeFilter({
    error_mode: "ignore",
    log_conditions: [{ conditions }, {
      conditions: ['log.body == "keep"'],
      error_mode: "propagate",
    }],
  });
  // The first group only ignores its error; the second drops what is left, without error.
  await propagating.proc.consume(errorBatch(), {});
  assert.equal(propagating.next.batches.length, 0);
  const failing = makeFilter({ log_conditions: [{ conditions }] });
  await assert.rejects(failing.proc.consume(errorBatch(), {}), (err: unknown) => isPermanent(err));
});

function errorsOf(plain: unknown): string {
  return parseWith(parseFilterConfig, plain, "processors::filter").issues
    .filter((i) => i.severity === "error")
    .map((i) => `${i.path}: ${i.message}`).join("\n");
}

Deno.test("filter log_conditions config errors: exclusion as upstream, paths with their column", () => {
  const exclusive =
    /processors::filter::log_conditions: cannot use context inferred log conditions "log_conditions" and the settings "logs\.resource", "logs\.log", "logs\.include", "logs\.exclude" at the same time/;
  assert.match(
    errorsOf({ log_conditions: ["log.body == 1"], logs: { log_record: ["body == 1"] } }),
    exclusive,
  );
  assert.match(
    errorsOf({ log_conditions: ["log.body == 1"], logs: { exclude: { bodies: ["x"] } } }),
    exclusive,
  );
  assert.match(
    errorsOf({ log_conditions: ['log.body == "x"', 'log.span_id == "y"'] }),
    /log_conditions::1: Condition 'log\.span_id == "y"': Unsupported path "log\.span_id" in the log context \(supported: .*log\.body.*\) at column 1/,
  );
  assert.match(
    errorsOf({ log_conditions: ['log.body == "x" or attributes["k"] == 1'] }),
    /log_conditions::0: .*Missing context name for path "attributes\["k"\]": write it as one of "log\.attributes\["k"\]".* at column 20/,
  );
  assert.match(
    errorsOf({ log_conditions: ['attributes["k"] == 1'] }),
    /processors::filter::log_conditions: unable to infer context from conditions/,
  );
  assert.match(
    errorsOf({ log_conditions: ['span.name == "x"'] }),
    /log_conditions: context "span" inferred from the conditions \["span\.name == \\"x\\""\] is not a supported context/,
  );
  assert.match(
    errorsOf({ log_conditions: ['resource.attributes["a"] == 1 and scope.name == "x"'] }),
    /Context "scope" of path "scope\.name" is not valid in the resource context.* at column 35/,
  );
  assert.match(
    errorsOf({ log_conditions: ["log.body == 1", { conditions: ["log.body == 2"] }] }),
    /log_conditions: configuring multiple configuration styles is not supported/,
  );
  assert.match(
    errorsOf({ log_conditions: [{ context: "span", conditions: ["name == 1"] }] }),
    /log_conditions::0::context: Unknown context "span"/,
  );
  assert.match(
    errorsOf({ log_conditions: [{ context: "resource", conditions: ["x == 1", "body == 2"] }] }),
    /log_conditions::0::conditions::0: .*Unsupported path "resource\.x" in the resource context/,
  );
  assert.match(
    errorsOf({
      log_conditions: [{
        context: "resource",
        conditions: ["severity_number > SEVERITY_NUMBER_INFO"],
      }],
    }),
    /Unsupported path "resource\.severity_number"/,
  );
  assert.match(
    errorsOf({ log_conditions: [{ context: "log", statements: ["x"] }] }),
    /log_conditions::0: Missing "conditions"/,
  );
  assert.match(
    errorsOf({ log_conditions: [null] }),
    /log_conditions::0: condition cannot be empty/,
  );
  assert.match(
    errorsOf({ log_conditions: [{ conditions: ["log.body == 1", ["x"]] }] }),
    /log_conditions::0::conditions::1: Expected a condition \(a string\)/,
  );
  assert.equal(
    errorsOf({ log_conditions: [{ conditions: ["log.body == 1"], error_mode: "silent" }] }),
    "",
  );
});
