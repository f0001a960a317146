/**
 * The `filelog` receiver's config: upstream's keys and defaults, decoded onto defaults with
 * every problem reported against its path. Keys this project does not implement yet are
 * errors that name them, never silently ignored.
 *
 * @module
 */

import type { ConfigReader } from "../../core/config/reader.ts";
import type { RetryConfig } from "../../pkg/stanza/adapter/receiver_adapter.ts";
import { type OperatorSpec, parseOperators } from "../../pkg/stanza/operator/registry.ts";
import { compileValueTemplate, type ValueTemplate } from "../../pkg/stanza/expr.ts";
import { compileGoRegex } from "../../core/regex/go_regex.ts";
import { type OrderingConfig, parseOrdering } from "./ordering.ts";

/** Where a never-seen file starts being read on the first poll. */
export type StartAt = "beginning" | "end";
/** What happens to the rest of a line longer than `max_log_size`. */
export type MaxLogSizeBehavior = "split" | "truncate";
/** What a known file that shrank below its offset does. */
export type OnTruncate = "ignore" | "read_whole_file" | "read_new";
/** How matched files are decompressed. */
export type Compression = "" | "gzip" | "auto";

/** `multiline`: where records start or end instead of at newlines. */
export interface MultilineConfig {
  readonly lineStartPattern?: RegExp;
  readonly lineEndPattern?: RegExp;
  readonly omitPattern: boolean;
}

/** `header`: leading lines matching `pattern` become file attributes, not records. */
export interface HeaderConfig {
  readonly pattern: RegExp;
  /** The pipeline each header line goes through; its attributes are kept. */
  readonly metadataOperators: readonly OperatorSpec[];
}

/** Encodings whose newline is the single byte 0x0A (what header lines are split on). */
const BYTE_NEWLINE = /^(utf-?8(-raw)?|nop|(us-)?ascii|latin1|iso-8859-\d+|windows-125\d)$/;

function parseHeader(r: ConfigReader, startAt: string, encoding: string): HeaderConfig | undefined {
  if (!r.has("header") || r.raw("header") === undefined) return undefined;
  const h = r.section("header");
  const text = h.optionalString("pattern");
  let pattern: RegExp | undefined;
  if (text === undefined || text === "") {
    h.error("pattern", "pattern is required: a regex matching the header lines, e.g. ^#");
  } else {
    try {
      pattern = compileGoRegex(text);
    } catch (err) {
      h.error("pattern", (err as Error).message);
    }
  }
  const metadataOperators = parseOperators(h, "metadata_operators");
  if (metadataOperators.length === 0) {
    h.error("metadata_operators", "metadata_operators needs at least one operator");
  }
  for (const [i, spec] of metadataOperators.entries()) {
    if (spec.common.type === "filter" || spec.common.type === "recombine") {
      h.error(
        "metadata_operators",
        `Operator ${i} (${spec.common.type}) is not allowed in metadata_operators: each header line must come out of the pipeline`,
      );
    }
  }
  if (startAt === "end") {
    r.error("header", "header cannot be used with start_at: end; set start_at: beginning");
  }
  if (!BYTE_NEWLINE.test(encoding)) {
    r.error("header", `header is not supported with encoding ${JSON.stringify(encoding)}`);
  }
  return pattern === undefined ? undefined : { pattern, metadataOperators };
}

/** The typed config of one `filelog` receiver. */
export interface FilelogConfig {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** 0 = off. */
  readonly excludeOlderThanMs: number;
  /** `ordering_criteria` with at least one `sort_by` rule, else undefined. */
  readonly ordering: OrderingConfig | undefined;
  readonly header: HeaderConfig | undefined;
  readonly startAt: StartAt;
  readonly pollIntervalMs: number;
  readonly maxConcurrentFiles: number;
  readonly maxBatches: number;
  readonly fingerprintSize: number;
  readonly initialBufferSize: number;
  readonly maxLogSize: number;
  readonly maxLogSizeBehavior: MaxLogSizeBehavior;
  readonly onTruncate: OnTruncate;
  /** Lower-cased encoding name as written (`utf-8`, `utf-16le`, `nop`, ...). */
  readonly encoding: string;
  readonly multiline: MultilineConfig | undefined;
  /** 0 = wait for a delimiter forever. */
  readonly forceFlushPeriodMs: number;
  readonly includeFileName: boolean;
  readonly includeFilePath: boolean;
  readonly includeFileNameResolved: boolean;
  readonly includeFilePathResolved: boolean;
  readonly includeFileOwnerName: boolean;
  readonly includeFileOwnerGroupName: boolean;
  readonly includeFilePermissions: boolean;
  readonly includeFileRecordNumber: boolean;
  readonly includeFileRecordOffset: boolean;
  /** Storage extension id, or undefined for in-memory offsets. */
  readonly storage: string | undefined;
  readonly compression: Compression;
  readonly deleteAfterRead: boolean;
  readonly retryOnFailure: RetryConfig;
  readonly attributes: Readonly<Record<string, ValueTemplate>>;
  readonly resource: Readonly<Record<string, ValueTemplate>>;
  readonly preserveLeadingWhitespaces: boolean;
  readonly preserveTrailingWhitespaces: boolean;
  readonly pollsToArchive: number;
  /** Take a shared advisory lock (flock) on a file while reading it; skip it when locked. */
  readonly acquireFsLock: boolean;
  readonly operators: readonly OperatorSpec[];
}

const ENCODINGS_BUILTIN = ["utf-8", "utf8", "utf-8-raw", "utf8-raw", "nop", "ascii", "us-ascii"];

/** Returns true when `name` is an encoding this receiver can decode. */
export function isSupportedEncoding(name: string): boolean {
  if (ENCODINGS_BUILTIN.includes(name)) return true;
  try {
    new TextDecoder(name);
    return true;
  } catch {
    return false;
  }
}

/** Compiles a multiline pattern; reports a bad regex at `key`. */
function compilePattern(r: ConfigReader, key: string): RegExp | undefined {
  const text = r.optionalString(key);
  if (text === undefined) return undefined;
  try {
    // Upstream compiles with (?m); the splitter matches over windows-1252-decoded bytes.
    return compileGoRegex(text, "gm");
  } catch (err) {
    r.error(key, (err as Error).message);
    return undefined;
  }
}

function parseMultiline(r: ConfigReader): MultilineConfig | undefined {
  if (!r.has("multiline") || r.raw("multiline") === undefined) return undefined;
  const m = r.section("multiline");
  const lineStartPattern = compilePattern(m, "line_start_pattern");
  const lineEndPattern = compilePattern(m, "line_end_pattern");
  const omitPattern = m.bool("omit_pattern", false);
  if (lineStartPattern !== undefined && lineEndPattern !== undefined) {
    m.error(undefined, "Set only one of line_start_pattern or line_end_pattern");
  }
  if (lineStartPattern === undefined && lineEndPattern === undefined) {
    if (m.has("line_start_pattern") || m.has("line_end_pattern")) return undefined;
    m.error(undefined, "Set one of line_start_pattern or line_end_pattern (or remove multiline)");
    return undefined;
  }
  return { lineStartPattern, lineEndPattern, omitPattern };
}

function parseTemplates(r: ConfigReader, key: string): Record<string, ValueTemplate> {
  const section = r.section(key);
  const out: Record<string, ValueTemplate> = {};
  for (const k of section.keys()) {
    const text = section.string(k, "");
    const t = compileValueTemplate(text);
    if (t instanceof Error) section.error(k, t.message);
    else out[k] = t;
  }
  return out;
}

/** Keys upstream has that this receiver rejects until they are implemented. */
function rejectUnsupported(r: ConfigReader): void {
  if (r.bool("file_cache_advise", false)) {
    r.error("file_cache_advise", "file_cache_advise: true is not supported yet: remove it");
  }
}

/** Reads a `filelog` section onto upstream's defaults, reporting every problem. */
export function parseFilelogConfig(r: ConfigReader): FilelogConfig {
  rejectUnsupported(r);
  const include = r.stringList("include");
  if (!r.has("include") || include.length === 0) {
    r.error(
      "include",
      'include is required: list the files to read, e.g. ["/var/log/pods/*/*/*.log"]',
    );
  }
  const startAt = r.enum("start_at", ["beginning", "end"] as const, "end");
  const encoding = r.string("encoding", "utf-8").toLowerCase();
  if (!isSupportedEncoding(encoding)) {
    r.error(
      "encoding",
      `Unsupported encoding ${
        JSON.stringify(encoding)
      }: use utf-8, utf-8-raw, utf-16le, utf-16be, ascii, nop, or another WHATWG encoding label`,
    );
  }
  const maxConcurrentFiles = r.int("max_concurrent_files", 1024, { min: 2 });
  const deleteAfterRead = r.bool("delete_after_read", false);
  if (deleteAfterRead && startAt === "end") {
    r.error("delete_after_read", 'delete_after_read needs start_at: "beginning"');
  }
  const retry = r.section("retry_on_failure");
  const multiline = parseMultiline(r);
  if (multiline !== undefined && encoding === "nop") {
    r.error("multiline", "multiline cannot be used with encoding: nop");
  }
  const storageText = r.optionalString("storage");
  const excludeOlderThanMs = r.duration("exclude_older_than", 0);
  return {
    include,
    exclude: r.stringList("exclude"),
    excludeOlderThanMs,
    ordering: parseOrdering(r, excludeOlderThanMs),
    header: parseHeader(r, startAt, encoding),
    startAt,
    pollIntervalMs: r.duration("poll_interval", 200, { min: 1 }),
    maxConcurrentFiles,
    maxBatches: r.int("max_batches", 0, { min: 0 }),
    fingerprintSize: r.byteSize("fingerprint_size", 1000, { min: 16 }),
    initialBufferSize: r.byteSize("initial_buffer_size", 16 * 1024, { min: 1 }),
    maxLogSize: r.byteSize("max_log_size", 1024 * 1024, { min: 1 }),
    maxLogSizeBehavior: r.enum("max_log_size_behavior", ["split", "truncate"] as const, "split"),
    onTruncate: r.enum(
      "on_truncate",
      ["ignore", "read_whole_file", "read_new"] as const,
      "ignore",
    ),
    encoding,
    multiline,
    forceFlushPeriodMs: r.duration("force_flush_period", 500),
    includeFileName: r.bool("include_file_name", true),
    includeFilePath: r.bool("include_file_path", false),
    includeFileNameResolved: r.bool("include_file_name_resolved", false),
    includeFilePathResolved: r.bool("include_file_path_resolved", false),
    includeFileOwnerName: r.bool("include_file_owner_name", false),
    includeFileOwnerGroupName: r.bool("include_file_owner_group_name", false),
    includeFilePermissions: r.bool("include_file_permissions", false),
    includeFileRecordNumber: r.bool("include_file_record_number", false),
    includeFileRecordOffset: r.bool("include_file_record_offset", false),
    storage: storageText === "" ? undefined : storageText,
    compression: r.enum("compression", ["", "gzip", "auto"] as const, ""),
    deleteAfterRead,
    retryOnFailure: {
      enabled: retry.bool("enabled", false),
      initialIntervalMs: retry.duration("initial_interval", 1000),
      maxIntervalMs: retry.duration("max_interval", 30_000),
      maxElapsedTimeMs: retry.duration("max_elapsed_time", 300_000),
    },
    attributes: parseTemplates(r, "attributes"),
    resource: parseTemplates(r, "resource"),
    preserveLeadingWhitespaces: r.bool("preserve_leading_whitespaces", false),
    preserveTrailingWhitespaces: r.bool("preserve_trailing_whitespaces", false),
    pollsToArchive: r.int("polls_to_archive", 0, { min: 0 }),
    acquireFsLock: r.bool("acquire_fs_lock", false),
    operators: parseOperators(r),
  };
}
