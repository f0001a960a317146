import assert from "node:assert/strict";
import { createLogger } from "../../../core/telemetry/logger.ts";
import { type Entry, newEntry } from "../entry.ts";
import { testPipeline } from "../testing.ts";
import { SinkError } from "./operator.ts";

/** Runs JSON lines through `ops`; collects output, counted errors and logged lines. */
function run(
  ops: Array<Record<string, unknown>>,
  lines: string[],
  sink?: (e: Entry) => void,
): { out: Entry[]; errors: string[]; logs: string[] } {
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", sink: (l) => logs.push(l) });
  const { p, out, errors } = testPipeline(ops, { logger, sink });
  for (const l of lines) p.process(newEntry(l, 1n));
  return { out, errors, logs };
}

// The reviewer's case: a pattern taken from the entry that is not a valid regex.
const LINES = ['{"p":"ok","n":1}', '{"p":"(unclosed","n":2}', '{"p":"ok","n":3}'];
const MATCH_OP = {
  type: "add",
  id: "m",
  field: "attributes.m",
  value: 'EXPR("ok" matches attributes.p)',
};

Deno.test("an operator that throws never throws out of the chain: on_error send keeps the entry", () => {
  const { out, errors, logs } = run([{ type: "json_parser" }, MATCH_OP], LINES);
  assert.deepEqual(out.map((e) => e.attributes.n), [1, 2, 3]);
  assert.deepEqual(out.map((e) => e.attributes.m), [true, undefined, true]);
  assert.deepEqual(errors, ["m"]);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /Failed to process entry.*matches: Invalid Go regular expression/);
  assert.match(logs[0]!, /"operator_id":"m"/);
});

Deno.test("on_error drop drops (logged), drop_quiet drops silently, send_quiet keeps silently", () => {
  for (
    const [mode, kept, logged] of [
      ["drop", [1, 3], 1],
      ["drop_quiet", [1, 3], 0],
      ["send_quiet", [1, 2, 3], 0],
    ] as const
  ) {
    const { out, errors, logs } = run(
      [{ type: "json_parser" }, { ...MATCH_OP, on_error: mode }],
      LINES,
    );
    assert.deepEqual(out.map((e) => e.attributes.n), kept, mode);
    assert.deepEqual(errors, ["m"], mode); // counted in every mode, as upstream
    assert.equal(logs.length, logged, mode);
  }
});

Deno.test("an `if` expression that throws follows on_error too", () => {
  const { out, errors } = run([
    { type: "json_parser" },
    {
      type: "add",
      id: "a",
      if: '"ok" matches attributes.p',
      field: "attributes.x",
      value: 1,
      on_error: "drop_quiet",
    },
  ], LINES);
  assert.deepEqual(out.map((e) => e.attributes.n), [1, 3]);
  assert.deepEqual(out.map((e) => e.attributes.x), [1n, 1n]);
  assert.deepEqual(errors, ["a"]);
});

Deno.test("a route whose expression fails does not match (next route, then default), as upstream", () => {
  const { out, errors, logs } = run([
    { type: "json_parser" },
    {
      type: "router",
      routes: [
        { expr: '"ok" matches attributes.p', output: "hit" },
        { expr: "attributes.n == 2", output: "two" },
      ],
      default: "rest",
    },
    { type: "add", id: "hit", field: "attributes.r", value: "hit", output: "end" },
    { type: "add", id: "two", field: "attributes.r", value: "two", output: "end" },
    { type: "add", id: "rest", field: "attributes.r", value: "rest", output: "end" },
    { type: "noop", id: "end" },
  ], LINES);
  assert.deepEqual(out.map((e) => e.attributes.r), ["hit", "two", "hit"]);
  assert.deepEqual(errors, []);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /warn\tRunning expression returned an error/);
});

Deno.test("an error of the chain's end (the receiver) passes through unchanged, not as on_error", () => {
  const boom = new Error("builder broke");
  let calls = 0;
  const sink = (): void => {
    calls++;
    throw boom;
  };
  assert.throws(
    () => run([{ type: "json_parser" }, MATCH_OP], [LINES[0]!], sink),
    (err: unknown) => err instanceof SinkError && err.cause === boom,
  );
  assert.equal(calls, 1); // not re-sent by on_error: send
});
