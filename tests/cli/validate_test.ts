/**
 * The CLI as users run it: a subprocess with the binary's permission flags.
 */
import assert from "node:assert/strict";
import { runCliProcess } from "../fakes/run.ts";

const FIVE_MISTAKES = `receivers:
  testgen:
    batchs: 3
exporters:
  debug:
    verbosity: loud
  capture:
    delay: soon
processors:
  tag: {}
service:
  pipelines:
    logs:
      receivers: [testgen]
      processors: [tag]
      exporters: [debug, capture, otlphttp/missing]
  telemetry:
    metrics:
      level: none
extensions:
  zipkin: {}
`;

const VALID = `receivers:
  testgen:
    batches: 1
exporters:
  debug: {}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [testgen]
      exporters: [debug]
`;

async function withFile(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("validate prints five mistakes with paths and line numbers and exits 2", async () => {
  await withFile(FIVE_MISTAKES, async (path) => {
    const run = await runCliProcess(["validate", "--config", path], {
      entry: "tests/fakes/test_main.ts",
    });
    assert.equal(run.code, 2, run.stderr);
    const lines = run.stderr.trim().split("\n").filter((l) => !l.includes("warning:"));
    const expected = [
      `${path}:3:5: receivers::testgen::batchs: Unknown key "batchs" (did you mean "batches"?)`,
      `${path}:6:16: exporters::debug::verbosity: Invalid value "loud"`,
      `${path}:8:12: exporters::capture::delay: Invalid duration "soon"`,
      `${path}:16:18: service::pipelines::logs::exporters: References exporter "otlphttp/missing" which is not configured`,
      `${path}:21:3: extensions::zipkin: Unknown extension type "zipkin"`,
    ];
    for (const e of expected) {
      assert.ok(lines.some((l) => l.startsWith(e)), `missing: ${e}\n--- got:\n${run.stderr}`);
    }
    assert.match(run.stderr, /Invalid configuration: 5 errors/);
  });
});

Deno.test("validate exits 0 on a valid config without starting anything", async () => {
  await withFile(VALID, async (path) => {
    const run = await runCliProcess(["validate", "--config", path], {
      entry: "tests/fakes/test_main.ts",
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Configuration is valid/);
    assert.doesNotMatch(run.stderr + run.stdout, /Everything is ready/);
  });
});

Deno.test("--set overrides one value and its errors point at --set", async () => {
  await withFile(VALID, async (path) => {
    const run = await runCliProcess(
      ["validate", "--config", path, "--set", "exporters::debug::verbosity=detailed"],
      { entry: "tests/fakes/test_main.ts" },
    );
    assert.equal(run.code, 0, run.stderr);
    const bad = await runCliProcess(
      ["validate", "--config", path, "--set", "exporters::debug::verbosity=noisy"],
      { entry: "tests/fakes/test_main.ts" },
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--set:1:1: exporters::debug::verbosity: Invalid value "noisy"/);
  });
});

Deno.test("several --config sources merge; yaml: and env: sources work", async () => {
  await withFile(VALID, async (path) => {
    const run = await runCliProcess(
      [
        "validate",
        "--config",
        path,
        "--config",
        "env:EXTRA",
        "--config",
        "yaml:exporters::debug::sampling_initial: 9",
      ],
      {
        entry: "tests/fakes/test_main.ts",
        env: { EXTRA: "exporters:\n  debug:\n    verbosity: normal\n" },
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const missing = await runCliProcess(["validate", "--config", "env:NOT_SET_ANYWHERE"], {
      entry: "tests/fakes/test_main.ts",
    });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /NOT_SET_ANYWHERE is not set/);
  });
});

Deno.test("usage errors exit 2; --version, --help and components exit 0", async () => {
  const bad = await runCliProcess(["--bogus"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Unknown argument "--bogus"/);
  const noValue = await runCliProcess(["--config"]);
  assert.equal(noValue.code, 2);
  const version = await runCliProcess(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^otelcol-deno version \d+\.\d+\.\d+/);
  const help = await runCliProcess(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--config URI/);
  const components = await runCliProcess(["components"]);
  assert.equal(components.code, 0);
  assert.match(components.stdout, /exporters:\n(.|\n)*- name: debug\n/);
});

Deno.test("a component failing to start exits 1 naming it", async () => {
  await withFile(
    VALID + "extensions:\n  flaky:\n    fail: true\n",
    async (path) => {
      const run = await runCliProcess(
        ["--config", path, "--set", "service::extensions=[flaky]"],
        { entry: "tests/fakes/test_main.ts" },
      );
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /Failed to start "flaky" extension: disk on fire/);
    },
  );
});

Deno.test("an alias type name works and warns", async () => {
  await withFile(
    VALID + "extensions:\n  flaky_old: {}\n",
    async (path) => {
      const run = await runCliProcess(
        ["validate", "--config", path, "--set", "service::extensions=[flaky_old]"],
        { entry: "tests/fakes/test_main.ts" },
      );
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /"flaky_old" is a deprecated alias of "flaky"/);
    },
  );
});
