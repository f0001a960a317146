import assert from "node:assert/strict";
import { defaultFileStorageConfig, parsePermissions } from "./config.ts";
import { ConfigIssues, ConfigReader } from "../../core/config/reader.ts";
import { mapNode } from "../../core/config/node.ts";
import { readConfig } from "./_testing.ts";
import { fileStorageFactory } from "./mod.ts";

Deno.test("parseFileStorageConfig() gives upstream's defaults for an empty section", () => {
  const { config, issues } = readConfig({});
  assert.deepEqual(issues.list, []);
  assert.deepEqual(config, defaultFileStorageConfig());
  assert.equal(config.directory, "/var/lib/otelcol/file_storage");
  assert.equal(config.createDirectory, false);
  assert.equal(config.directoryPermissions, 0o750);
  assert.equal(config.timeoutMs, 1000);
  assert.equal(config.fsync, false);
  assert.equal(config.recreate, false);
  assert.deepEqual(config.compaction, {
    onStart: false,
    onRebound: false,
    directory: "/var/lib/otelcol/file_storage",
    maxTransactionSize: 65536,
    reboundNeededThresholdMiB: 100,
    reboundTriggerThresholdMiB: 10,
    checkIntervalMs: 5000,
    cleanupOnStart: false,
  });
});

Deno.test("parseFileStorageConfig() reads every key", () => {
  const { config, issues } = readConfig({
    directory: "/var/lib/telemetry-log-agent/file-log-receiver",
    create_directory: true,
    directory_permissions: "0770",
    timeout: "2s",
    fsync: true,
    recreate: true,
    compaction: {
      on_start: true,
      on_rebound: true,
      directory: "/tmp",
      max_transaction_size: 2048,
      rebound_needed_threshold_mib: 128,
      rebound_trigger_threshold_mib: 16,
      check_interval: "10s",
      cleanup_on_start: true,
    },
  });
  assert.deepEqual(issues.list, []);
  assert.deepEqual(config, {
    directory: "/var/lib/telemetry-log-agent/file-log-receiver",
    createDirectory: true,
    directoryPermissions: 0o770,
    timeoutMs: 2000,
    fsync: true,
    recreate: true,
    compaction: {
      onStart: true,
      onRebound: true,
      directory: "/tmp",
      maxTransactionSize: 2048,
      reboundNeededThresholdMiB: 128,
      reboundTriggerThresholdMiB: 16,
      checkIntervalMs: 10000,
      cleanupOnStart: true,
    },
  });
});

Deno.test("parsePermissions() accepts octal strings and rejects the rest", () => {
  assert.equal(parsePermissions("0750"), 0o750);
  assert.equal(parsePermissions("750"), 0o750);
  assert.equal(parsePermissions("0o700"), 0o700);
  assert.equal(parsePermissions("0777"), 0o777);
  assert.match(parsePermissions("rwxr--r--") as string, /octal string such as "0750"/);
  assert.match(parsePermissions("0778") as string, /octal string/);
  assert.match(parsePermissions("") as string, /octal string/);
  assert.match(parsePermissions("07771") as string, /only the permission bits 0777/);
});

Deno.test("directory_permissions written as a YAML number keeps its octal text", () => {
  // The loader keeps `0750` as written in `raw`; a plain number 750 reads the same way.
  const { config, issues } = readConfig({ create_directory: true, directory_permissions: 750 });
  assert.deepEqual(issues.errors, []);
  assert.equal(config.directoryPermissions, 0o750);
});

Deno.test("invalid directory_permissions is an error only when create_directory is true", () => {
  const bad = readConfig({ create_directory: true, directory_permissions: "invalid string" });
  assert.equal(bad.issues.errors.length, 1);
  assert.equal(bad.issues.errors[0]!.path, "extensions::file_storage::directory_permissions");
  assert.match(bad.issues.errors[0]!.message, /Invalid permissions "invalid string"/);

  const unused = readConfig({ create_directory: false, directory_permissions: "07771" });
  assert.deepEqual(unused.issues.errors, []);
  assert.equal(unused.issues.warnings.length, 1);
  assert.match(unused.issues.warnings[0]!.message, /ignored: create_directory is false/);
});

Deno.test("directory_permissions must let the owner use the directories it creates", () => {
  const { issues } = readConfig({ create_directory: true, directory_permissions: "0600" });
  assert.equal(issues.errors.length, 1);
  assert.match(issues.errors[0]!.message, /owner needs read, write and search permission \(0700\)/);
});

Deno.test("compaction values are range-checked with their path", () => {
  const { issues } = readConfig({
    compaction: {
      on_rebound: true,
      check_interval: 0,
      max_transaction_size: -1,
      rebound_needed_threshold_mib: -5,
    },
    timeout: "soon",
  });
  const byPath = Object.fromEntries(issues.errors.map((i) => [i.path, i.message]));
  assert.match(
    byPath["extensions::file_storage::compaction::check_interval"]!,
    /Must be positive when on_rebound is true/,
  );
  assert.match(
    byPath["extensions::file_storage::compaction::max_transaction_size"]!,
    /Must be at least 0/,
  );
  assert.match(
    byPath["extensions::file_storage::compaction::rebound_needed_threshold_mib"]!,
    /Must be at least 0/,
  );
  assert.match(byPath["extensions::file_storage::timeout"]!, /Invalid duration "soon"/);
  assert.equal(issues.errors.length, 4);
});

Deno.test("unknown keys are reported with a suggestion", () => {
  const { issues } = readConfig({ directry: "/x", compaction: { on_strat: true } });
  const messages = issues.errors.map((i) => `${i.path}: ${i.message}`);
  assert.equal(messages.length, 2);
  assert.match(
    messages.join("\n"),
    /file_storage::directry: Unknown key "directry" \(did you mean "directory"\?\)/,
  );
  assert.match(
    messages.join("\n"),
    /compaction::on_strat: Unknown key "on_strat" \(did you mean "on_start"\?\)/,
  );
});

Deno.test("an empty directory is rejected", () => {
  const { issues } = readConfig({ directory: "" });
  assert.equal(issues.errors.length, 1);
  assert.match(issues.errors[0]!.message, /Must not be empty/);
});

Deno.test("fileStorageFactory declares upstream's type and parses with parseConfig", () => {
  assert.equal(fileStorageFactory.kind, "extension");
  assert.equal(fileStorageFactory.type, "file_storage");
  assert.equal(fileStorageFactory.stability, "beta");
  const issues = new ConfigIssues();
  // As the YAML loader delivers `directory_permissions: 0700`: a number with its text kept.
  const node = mapNode({
    fsync: { type: "scalar", value: true, raw: "true" },
    create_directory: { type: "scalar", value: true, raw: "true" },
    directory_permissions: { type: "scalar", value: 700, raw: "0700" },
  });
  const config = fileStorageFactory.parseConfig(
    new ConfigReader(node, "extensions::file_storage", issues),
  );
  assert.deepEqual(issues.list, []);
  assert.equal(config.fsync, true);
  assert.equal(config.directoryPermissions, 0o700);
});
