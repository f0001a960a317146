import assert from "node:assert/strict";
import { filelogFactory } from "./mod.ts";
import { mustParse, parse } from "./test_helpers.ts";

Deno.test("filelog config has upstream defaults", () => {
  const cfg = mustParse({ include: ["/var/log/pods/*/*/*.log"] });
  assert.equal(cfg.startAt, "end");
  assert.equal(cfg.pollIntervalMs, 200);
  assert.equal(cfg.maxConcurrentFiles, 1024);
  assert.equal(cfg.fingerprintSize, 1000);
  assert.equal(cfg.initialBufferSize, 16 * 1024);
  assert.equal(cfg.maxLogSize, 1024 * 1024);
  assert.equal(cfg.maxLogSizeBehavior, "split");
  assert.equal(cfg.onTruncate, "ignore");
  assert.equal(cfg.encoding, "utf-8");
  assert.equal(cfg.forceFlushPeriodMs, 500);
  assert.equal(cfg.includeFileName, true);
  assert.equal(cfg.includeFilePath, false);
  assert.equal(cfg.compression, "");
  assert.equal(cfg.storage, undefined);
  assert.deepEqual(cfg.retryOnFailure, {
    enabled: false,
    initialIntervalMs: 1000,
    maxIntervalMs: 30_000,
    maxElapsedTimeMs: 300_000,
  });
});

Deno.test("filelog config reads the Helm chart's logs preset", () => {
  const cfg = mustParse({
    include: ["/var/log/pods/*/*/*.log"],
    exclude: ["/var/log/pods/default_otel-collector*_*/opentelemetry-collector/*.log"],
    start_at: "end",
    include_file_path: true,
    include_file_name: false,
    retry_on_failure: { enabled: true },
    storage: "file_storage",
    operators: [{ type: "container", id: "container-parser", max_log_size: 102400 }],
  });
  assert.equal(cfg.storage, "file_storage");
  assert.equal(cfg.operators.length, 1);
  assert.equal(cfg.operators[0]!.common.id, "container-parser");
});

Deno.test("filelog config parses sizes, durations and every include_* flag", () => {
  const cfg = mustParse({
    include: "/tmp/x.log",
    fingerprint_size: "2kb",
    max_log_size: "64KiB",
    poll_interval: "1s",
    force_flush_period: 0,
    exclude_older_than: "24h",
    include_file_name_resolved: true,
    include_file_path_resolved: true,
    include_file_owner_name: true,
    include_file_owner_group_name: true,
    include_file_permissions: true,
    include_file_record_number: true,
    include_file_record_offset: true,
    encoding: "UTF-16LE",
    compression: "auto",
    multiline: { line_start_pattern: "^\\d{4}-" },
    attributes: { env: "prod" },
    resource: { "host.name": 'EXPR(env("HOSTNAME"))' },
  });
  assert.deepEqual(cfg.include, ["/tmp/x.log"]);
  assert.equal(cfg.fingerprintSize, 2000);
  assert.equal(cfg.maxLogSize, 65536);
  assert.equal(cfg.pollIntervalMs, 1000);
  assert.equal(cfg.forceFlushPeriodMs, 0);
  assert.equal(cfg.excludeOlderThanMs, 86_400_000);
  assert.equal(cfg.encoding, "utf-16le");
  assert.ok(cfg.multiline?.lineStartPattern instanceof RegExp);
  assert.equal(cfg.attributes.env!.literal, true);
  assert.equal(cfg.resource["host.name"]!.literal, false);
});

Deno.test("filelog config rejects bad values and unsupported keys by name", () => {
  const { errors } = parse({
    start_at: "middle",
    fingerprint_size: 8,
    poll_interval: "fast",
    encoding: "ebcdic-xyz",
    header: { pattern: "^#" },
    ordering_criteria: { top_n: -1, sort_by: [{ sort_type: "numeric" }, { sort_type: "size" }] },
    acquire_fs_lock: "yes",
    multiline: { line_start_pattern: "a", line_end_pattern: "b" },
    delete_after_read: true,
    unknown_key: 1,
    operators: [
      { type: "csv_parser" },
      { type: "jsn_parser" },
      { type: "regex_parser", regex: "(" },
      { type: "move", from: "body.a", to: "attributes.b", output: "nowhere" },
    ],
  });
  const text = errors.join("\n");
  assert.match(text, /receivers::filelog::include: include is required/);
  assert.match(text, /start_at: Invalid value "middle"/);
  assert.match(text, /fingerprint_size: Must be at least 16/);
  assert.match(text, /poll_interval: Invalid duration "fast"/);
  assert.match(text, /encoding: Unsupported encoding "ebcdic-xyz"/);
  assert.match(text, /header::metadata_operators: metadata_operators needs at least one/);
  assert.match(text, /header: header cannot be used with start_at: end/);
  assert.match(text, /ordering_criteria::sort_by::0::regex_key: regex_key is required/);
  assert.match(text, /ordering_criteria::sort_by::1::sort_type: Invalid value "size"/);
  assert.match(text, /ordering_criteria::top_n: top_n must not be negative/);
  assert.match(text, /ordering_criteria::regex: regex is required/);
  assert.match(text, /acquire_fs_lock: /);
  assert.match(text, /multiline: Set only one of line_start_pattern or line_end_pattern/);
  assert.match(text, /delete_after_read: delete_after_read needs start_at: "beginning"/);
  assert.match(text, /unknown_key: Unknown key "unknown_key"/);
  assert.match(text, /operators::0::type: operator type "csv_parser" is not supported yet/);
  assert.match(
    text,
    /operators::1::type: operator type "jsn_parser" is not supported yet \(did you mean "json_parser"\?\)/,
  );
  assert.match(text, /operators::2::regex: Invalid (Go )?regular expression/);
  assert.match(text, /outputs to unknown operator "nowhere"/);
});

Deno.test("filelog config rejects unsupported expressions naming them", () => {
  const { errors } = parse({
    include: ["/x"],
    operators: [{ type: "filter", expr: 'body matches "a" and len(body) > 3' }],
  });
  assert.equal(errors.length, 1);
  assert.match(
    errors[0]!,
    /operators::0::expr: Unsupported expression "body matches \\"a\\" and len\(body\) > 3"/,
  );
});

Deno.test("filelog factory answers to filelog and file_log", () => {
  assert.equal(filelogFactory.type, "filelog");
  assert.deepEqual(filelogFactory.aliases, ["file_log"]);
  assert.equal(filelogFactory.kind, "receiver");
});

Deno.test("multiline patterns honour Go inline flags such as (?i)", () => {
  const cfg = mustParse({ include: ["/x/*.log"], multiline: { line_start_pattern: "(?i)^start" } });
  const re = cfg.multiline!.lineStartPattern!;
  re.lastIndex = 0;
  assert.ok(re.test("START here"));
});
