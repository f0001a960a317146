/**
 * The command line, the same for `deno task start …` and the compiled binary:
 * run (default), `validate`, `components`, `--version`, `--help`.
 * Exit codes: 0 clean shutdown, 1 runtime failure, 2 invalid configuration or usage.
 *
 * @module
 */

import type { Factory } from "./component.ts";
import { ConfigError, formatIssue, sortIssues } from "./config/reader.ts";
import { checkPermissions, logPosture, permissionsReport } from "./permissions/mod.ts";
import { BUILD_INFO, Collector, loadCollectorConfig } from "./service/collector.ts";

/** Signals closer together than this count as one (see `runCollector`). */
const DUPLICATE_SIGNAL_MS = 1000;

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const HELP = `Usage: otelcol-deno [command] [flags]

Commands:
  (none)       run the collector
  validate     check the configuration and exit (0 valid, 2 invalid)
  components   list the built-in component types with aliases and stability
  permissions  print the --allow-* flags the configuration needs (why, on stderr)

Flags:
  --config URI   config source, repeatable; merged in order (maps merge, lists are replaced,
                 later wins). URI is a path, file:PATH, env:VAR or yaml:<inline yaml>.
                 Without --config the embedded demo config runs.
  --set K=V      override one value, e.g. --set exporters::debug::verbosity=detailed
  --version      print the version
  --help         print this help

Signals: SIGTERM or SIGINT stops receivers, drains processors and exporters, then stops
extensions; a second signal (more than a second after the first) forces exit.
`;

/** What the command line asked for. */
export interface CliArgs {
  readonly command: "run" | "validate" | "components" | "permissions" | "version" | "help";
  readonly configs: string[];
  readonly sets: string[];
}

/** Thrown for bad command lines; the message says what to do. */
export class UsageError extends Error {
  /** Builds a usage error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parses argv; throws {@linkcode UsageError}. */
export function parseArgs(args: readonly string[]): CliArgs {
  let command: CliArgs["command"] = "run";
  const configs: string[] = [];
  const sets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new UsageError(`Flag ${name} needs a value`);
      return v;
    };
    switch (name) {
      case "--config":
      case "-c":
        configs.push(value());
        break;
      case "--set":
        sets.push(value());
        break;
      case "--version":
      case "-v":
        command = "version";
        break;
      case "--help":
      case "-h":
      case "help":
        command = "help";
        break;
      case "validate":
      case "components":
      case "permissions":
        if (i !== 0) throw new UsageError(`The command "${arg}" must come first`);
        command = arg as "validate" | "components" | "permissions";
        break;
      case "--feature-gates":
        throw new UsageError("--feature-gates is not supported: otelcol-deno has no feature gates");
      default:
        throw new UsageError(`Unknown argument "${arg}"; run with --help for usage`);
    }
  }
  return { command, configs, sets };
}

function titleCase(s: string): string {
  return s[0]!.toUpperCase() + s.slice(1);
}

/** The `components` listing, as YAML like upstream's. */
export function describeComponents(factories: readonly Factory[]): string {
  const lines = [
    "buildinfo:",
    `  command: ${BUILD_INFO.command}`,
    `  description: ${BUILD_INFO.description}`,
    `  version: ${BUILD_INFO.version}`,
  ];
  for (const kind of ["receiver", "processor", "exporter", "extension", "connector"] as const) {
    const list = factories.filter((f) => f.kind === kind);
    lines.push(`${kind}s:${list.length === 0 ? " []" : ""}`);
    for (const f of list) {
      lines.push(`  - name: ${f.type}`);
      if (f.aliases?.length) lines.push(`    aliases: [${f.aliases.join(", ")}]`);
      lines.push(`    description: ${f.description}`);
      lines.push("    stability:");
      lines.push(
        kind === "extension"
          ? `      extension: ${titleCase(f.stability)}`
          : kind === "connector"
          ? `      logs-to-logs: ${titleCase(f.stability)}`
          : `      logs: ${titleCase(f.stability)}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** Options for {@linkcode runCli}. */
export interface CliOptions {
  readonly factories: readonly Factory[];
  /** The config used when no --config is given. */
  readonly defaultConfig: string;
  /** Where text output goes (stdout by default). */
  readonly stdout?: (text: string) => void;
  /** Where error output goes (stderr by default). */
  readonly stderr?: (text: string) => void;
  /** Drain budget for shutdown. @default 30000 */
  readonly shutdownTimeoutMs?: number;
}

/** Runs the CLI with `args` and resolves with the exit code. */
export async function runCli(args: readonly string[], options: CliOptions): Promise<number> {
  const stdout = options.stdout ??
    ((t: string) => Deno.stdout.writeSync(new TextEncoder().encode(t)));
  const stderr = options.stderr ??
    ((t: string) => Deno.stderr.writeSync(new TextEncoder().encode(t)));
  let parsed: CliArgs;
  try {
    parsed = parseArgs(args);
  } catch (err) {
    stderr(`Error: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  if (parsed.command === "help") {
    stdout(HELP);
    return EXIT.ok;
  }
  if (parsed.command === "version") {
    stdout(`${BUILD_INFO.command} version ${BUILD_INFO.version}\n`);
    return EXIT.ok;
  }
  if (parsed.command === "components") {
    stdout(describeComponents(options.factories));
    return EXIT.ok;
  }
  const uris = parsed.configs.length > 0 ? parsed.configs : [`yaml:${options.defaultConfig}`];
  const sources = { uris, sets: parsed.sets };
  if (parsed.command === "permissions") {
    const report = await permissionsReport(sources);
    stdout(report.stdout);
    stderr(report.stderr);
    return report.result.problems.some((p) => p.startsWith("config: ")) ? EXIT.usage : EXIT.ok;
  }

  if (parsed.command === "validate") {
    const { config, issues } = await loadCollectorConfig(sources, options.factories);
    for (const issue of sortIssues(issues)) stderr(formatIssue(issue) + "\n");
    if (config === undefined) {
      const n = issues.filter((i) => i.severity === "error").length;
      stderr(`Invalid configuration: ${n} error${n === 1 ? "" : "s"}\n`);
      return EXIT.usage;
    }
    const missing = await checkPermissions(sources);
    for (const line of missing) stderr(`${line}\n`);
    if (missing.length > 0) return EXIT.usage;
    stdout("Configuration is valid\n");
    return EXIT.ok;
  }

  let collector: Collector;
  try {
    collector = await Collector.fromSources(sources, options.factories);
  } catch (err) {
    if (err instanceof ConfigError) {
      stderr(err.message + "\n");
      return EXIT.usage;
    }
    stderr(`Error: cannot build the collector: ${(err as Error).message}\n`);
    return EXIT.failure;
  }
  // Fail now, naming the config key, rather than on first use of a missing permission.
  const missing = await checkPermissions(sources);
  for (const line of missing) stderr(`Error: ${line}\n`);
  if (missing.length > 0) return EXIT.failure;
  logPosture(collector.logger);
  return await runCollector(collector, options.shutdownTimeoutMs ?? 30_000, stderr);
}

/** Starts `collector`, waits for a signal or a fatal error, shuts down; returns the exit code. */
async function runCollector(
  collector: Collector,
  shutdownTimeoutMs: number,
  stderr: (text: string) => void,
): Promise<number> {
  const stop = Promise.withResolvers<string>();
  let firstSignalAt: number | undefined;
  const onSignal = (name: string) => () => {
    const now = performance.now();
    // `deno task` forwards the terminal's Ctrl-C to a child that already got it from its
    // process group: a repeat within a second is the same request, not an order to force.
    if (firstSignalAt !== undefined && now - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
    if (firstSignalAt !== undefined) {
      stderr(`Received ${name} again: exiting without waiting for the drain\n`);
      Deno.exit(EXIT.failure);
    }
    firstSignalAt = now;
    stop.resolve(name);
  };
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGTERM", onSignal("SIGTERM")],
    ["SIGINT", onSignal("SIGINT")],
  ];
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  try {
    try {
      await collector.start();
    } catch (err) {
      stderr(`Error: ${(err as Error).message}\n`);
      return EXIT.failure;
    }
    const reason = await Promise.race([
      stop.promise.then((sig) => ({ sig, err: undefined })),
      collector.fatalError.then((err) => ({ sig: undefined, err })),
    ]);
    if (reason.sig) collector.logger.info(`Received ${reason.sig}, shutting down`);
    await collector.shutdown(shutdownTimeoutMs);
    if (reason.err) {
      stderr(`Error: ${reason.err.message}\n`);
      return EXIT.failure;
    }
    return EXIT.ok;
  } finally {
    for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  }
}
