/**
 * The `container` parser: docker json-file, CRI-O and containerd lines (format detected per
 * line unless `format` is set), CRI partial lines (`P` … `F`) recombined per file and stream
 * up to `max_log_size`, Kubernetes metadata from the file path as resource attributes, and
 * the record time parsed exactly to nanoseconds.
 *
 * @module
 */

import { isUtf8 } from "node:buffer";
import type { ConfigReader } from "../../../core/config/reader.ts";
import type { PlainLogRecord } from "../../../core/pdata/otlp_proto.ts";
import { earlier, type Entry, type EntrySource, type ValueMap } from "../entry.ts";
import { type Field, fieldText, getField, setField } from "../field.ts";
import { parseRfc3339Nano, parseRfc3339NanoBytes } from "../parse/rfc3339.ts";
import type { LineSink, RawLine } from "../raw_line.ts";
import {
  type BuildContext,
  type CommonConfig,
  Operator,
  type OperatorSpec,
  parseCommon,
} from "./operator.ts";
import { readField } from "./parser.ts";

/** Matches `…/<namespace>_<pod>_<uid>/<container>/<restart>.log` with / or \ separators. */
const PATH_RE =
  /[/\\](?<ns>[^_/\\]+)_(?<pod>[^_/\\]+)_(?<uid>[a-f0-9-]+)[/\\](?<container>[^._/\\]+)[/\\](?<restart>\d+)\.log$/;

interface ContainerConfig {
  readonly format: "" | "docker" | "crio" | "containerd";
  readonly addMetadata: boolean;
  readonly maxLogSize: number;
  readonly parseFrom: Field;
}

interface Pending {
  parts: string[];
  size: number;
  first: Entry;
  last: Entry;
  sinceMs: number;
}

const FLUSH_MS = 5000;
const PATH_FIELD = "log.file.path";

class ContainerParser extends Operator {
  readonly #cfg: ContainerConfig;
  readonly #pathCache = new Map<string, ValueMap | string>();
  readonly #pending = new Map<string, Pending>();
  readonly #lineAttrs = new WeakMap<ValueMap, { stdout: ValueMap; stderr: ValueMap }>();
  #now = Date.now();

  constructor(common: CommonConfig, cfg: ContainerConfig, ctx: BuildContext) {
    super(common, ctx);
    this.#cfg = cfg;
    // The lane knows CRI lines parsed from the body, with metadata from the path.
    if (
      cfg.addMetadata && cfg.format !== "docker" && cfg.parseFrom.root === "body" &&
      cfg.parseFrom.path.length === 0
    ) {
      this.takeLine = (line, sink) => this.#takeLine(line, sink);
    }
  }

  protected handle(e: Entry): void {
    const v = getField(e, this.#cfg.parseFrom);
    if (typeof v !== "string") {
      this.fail(e, `${fieldText(this.#cfg.parseFrom)} is not a string log line`);
      return;
    }
    const format = this.#cfg.format || detect(v);
    const err = format === "docker" ? this.#docker(e, v) : this.#cri(e, v, format);
    if (err !== undefined) this.fail(e, err);
  }

  #metadata(e: Entry): string | undefined {
    if (!this.#cfg.addMetadata) return undefined;
    const path = e.attributes[PATH_FIELD];
    if (typeof path !== "string") {
      return `attribute "${PATH_FIELD}" is missing: set include_file_path: true on the receiver`;
    }
    const res = this.#pathResource(path);
    if (typeof res === "string") return res;
    if (Object.keys(e.resource).length === 0) {
      e.resource = res;
      e.resourceShared = true;
    } else {
      if (e.resourceShared) {
        e.resource = { ...e.resource };
        e.resourceShared = false;
      }
      Object.assign(e.resource, res);
    }
    return undefined;
  }

  /** The resource attributes a log file's path gives (one shared map per path), or an error. */
  #pathResource(path: string): ValueMap | string {
    let res = this.#pathCache.get(path);
    if (res === undefined) {
      const m = PATH_RE.exec(path);
      if (m === null) {
        res = `path ${
          JSON.stringify(path)
        } does not match /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log`;
      } else {
        const g = m.groups!;
        res = {
          "k8s.pod.name": g.pod!,
          "k8s.container.restart_count": g.restart!,
          "k8s.pod.uid": g.uid!,
          "k8s.container.name": g.container!,
          "k8s.namespace.name": g.ns!,
        };
      }
      if (this.#pathCache.size > 10_000) this.#pathCache.clear();
      this.#pathCache.set(path, res);
    }
    return res;
  }

  /**
   * The line lane (see pkg/stanza/raw_line.ts) for the commonest line of all: a whole CRI line
   * (tag `F`) of `stdout` or `stderr` while no piece of a split line of its file waits, from a
   * receiver that gives the entry no resource. Its record is what `handle` would emit for the
   * line decoded; anything else is left to `handle`.
   */
  #takeLine(line: RawLine, sink: LineSink): boolean {
    if (this.#holdsPieces(line.sourceId)) return false;
    const b = line.bytes;
    const { start, end } = line;
    const c = b[start]!;
    if (c < 0x30 || c > 0x39) return false; // not a time: docker JSON, a BOM, a bad line
    const s1 = b.indexOf(0x20, start);
    if (s1 < 0 || s1 + 10 > end || b[s1 + 8] !== 0x46 || b[s1 + 9] !== 0x20) return false;
    const stream = streamAt(b, s1 + 1);
    if (stream === undefined) return false;
    const textStart = s1 + 10;
    if (!line.validText && !isUtf8(b.subarray(textStart, end))) return false;
    const path = line.attributes[PATH_FIELD];
    if (typeof path !== "string") return false;
    const resource = this.#pathResource(path);
    if (typeof resource === "string") return false;
    const timestamp = parseRfc3339NanoBytes(b, start, s1);
    if (timestamp === undefined) return false;
    const record: PlainLogRecord = {
      body: undefined,
      attributes: this.#lineAttributes(line.attributes, stream),
      timestamp,
      observed: line.observed,
      severity: 0,
      severityText: "",
    };
    sink(resource, record, b, textStart, end);
    return true;
  }

  /** Whether pieces of a split line wait (for the source, or for an entry without one). */
  #holdsPieces(sourceId: number): boolean {
    for (const p of this.#pending.values()) {
      const src = p.first.src;
      if (src === undefined || src.sourceId === sourceId) return true;
    }
    return false;
  }

  /** A receiver's attributes plus what `#cri` adds for a whole line (one map each, shared). */
  #lineAttributes(attrs: ValueMap, stream: "stdout" | "stderr"): ValueMap {
    let both = this.#lineAttrs.get(attrs);
    if (both === undefined) {
      both = {
        stdout: { ...attrs, "log.iostream": "stdout", "logtag": "F" },
        stderr: { ...attrs, "log.iostream": "stderr", "logtag": "F" },
      };
      this.#lineAttrs.set(attrs, both);
    }
    return both[stream];
  }

  #docker(e: Entry, line: string): string | undefined {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      return "line is not valid docker JSON";
    }
    if (obj === null || typeof obj !== "object") return "docker line is not a JSON object";
    const { log, stream, time } = obj as Record<string, unknown>;
    if (typeof log !== "string" || typeof time !== "string") {
      return "docker line lacks the log or time field";
    }
    const ts = parseRfc3339Nano(time);
    if (ts === undefined) return `invalid docker time ${JSON.stringify(time)}`;
    const metaErr = this.#metadata(e);
    if (metaErr !== undefined) return metaErr;
    e.timestamp = ts;
    const streamName = typeof stream === "string" ? stream : "";
    if (streamName !== "") e.attributes["log.iostream"] = streamName;
    // json-file splits lines longer than 16 KiB into pieces without the trailing newline.
    this.#piece(e, streamName, log, log.endsWith("\n"));
    return undefined;
  }

  #cri(e: Entry, line: string, format: string): string | undefined {
    const s1 = line.indexOf(" ");
    const s2 = s1 < 0 ? -1 : line.indexOf(" ", s1 + 1);
    const s3 = s2 < 0 ? -1 : line.indexOf(" ", s2 + 1);
    if (s3 < 0 && !(s2 > 0 && line.length > s2 + 1)) {
      return `line is not in ${format} format (<time> <stream> <tag> <log>)`;
    }
    const ts = parseRfc3339Nano(line.slice(0, s1));
    if (ts === undefined) return `invalid ${format} time ${JSON.stringify(line.slice(0, s1))}`;
    const stream = line.slice(s1 + 1, s2);
    const tagEnd = s3 < 0 ? line.length : s3;
    const tag = line.slice(s2 + 1, tagEnd);
    const log = s3 < 0 ? "" : line.slice(s3 + 1);
    if (stream !== "stdout" && stream !== "stderr") {
      return `line is not in ${format} format: stream ${JSON.stringify(stream)}`;
    }
    const metaErr = this.#metadata(e);
    if (metaErr !== undefined) return metaErr;
    e.timestamp = ts;
    const attrs = e.attributes;
    attrs["log.iostream"] = stream;
    attrs["logtag"] = tag;
    this.#piece(e, stream, log, tag.length === 0 || tag[0] !== "P");
    return undefined;
  }

  /**
   * Handles one piece of a line of `stream`: a whole line goes out at once, the pieces of a
   * split one are joined per file and stream until the last arrives.
   */
  #piece(e: Entry, stream: string, log: string, isLast: boolean): void {
    const key = `${e.src?.sourceId ?? e.attributes[PATH_FIELD]}\u0000${stream}`;
    const pending = this.#pending.get(key);
    if (pending === undefined && isLast) {
      setField(e, BODY, log);
      this.emit(e);
      return;
    }
    this.#add(key, pending, e, log, isLast);
  }

  #add(key: string, pending: Pending | undefined, e: Entry, log: string, isLast: boolean): void {
    const max = this.#cfg.maxLogSize;
    if (pending !== undefined && max > 0 && pending.size + log.length > max) {
      this.#flush(key, pending);
      pending = undefined;
    }
    if (pending === undefined) {
      pending = { parts: [], size: 0, first: e, last: e, sinceMs: this.#now };
      this.#pending.set(key, pending);
    }
    pending.parts.push(log);
    pending.size += log.length;
    pending.last = e;
    if (isLast) this.#flush(key, pending);
  }

  #flush(key: string, p: Pending): void {
    this.#pending.delete(key);
    // The newest piece carries the record (time, tag `F`); the oldest one's file position
    // is kept so a checkpoint never skips a piece.
    const out = p.last;
    out.src = p.first.src;
    setField(out, BODY, p.parts.join(""));
    this.emit(out);
  }

  override tick(nowMs: number): void {
    this.#now = nowMs;
    for (const [key, p] of this.#pending) {
      if (nowMs - p.sinceMs >= FLUSH_MS) this.#flush(key, p);
    }
  }

  override flushAll(): void {
    for (const [key, p] of this.#pending) this.#flush(key, p);
  }

  override held(sourceId: number): EntrySource | undefined {
    let best: EntrySource | undefined;
    for (const p of this.#pending.values()) {
      if (p.first.src?.sourceId === sourceId) best = earlier(best, p.first.src);
    }
    return best;
  }
}

const BODY: Field = { root: "body", path: [], text: "body" };

const STDOUT = [...new TextEncoder().encode("stdout ")];
const STDERR = [...new TextEncoder().encode("stderr ")];

/** The stream named at `b[at]` when a space follows its name. */
function streamAt(b: Uint8Array, at: number): "stdout" | "stderr" | undefined {
  if (startsWithBytes(b, at, STDOUT)) return "stdout";
  if (startsWithBytes(b, at, STDERR)) return "stderr";
  return undefined;
}

function startsWithBytes(b: Uint8Array, at: number, prefix: readonly number[]): boolean {
  for (let i = 0; i < prefix.length; i++) if (b[at + i] !== prefix[i]) return false;
  return true;
}

function detect(line: string): "docker" | "crio" | "containerd" {
  if (line.charCodeAt(0) === 0x7b) return "docker";
  const sp = line.indexOf(" ");
  return sp > 0 && line.charCodeAt(sp - 1) === 0x5a ? "containerd" : "crio";
}

/** Parses a `container` operator. */
export function parseContainer(r: ConfigReader): OperatorSpec {
  const common = parseCommon(r, "container");
  const cfg: ContainerConfig = {
    format: r.enum("format", ["", "docker", "crio", "containerd"] as const, ""),
    addMetadata: r.bool("add_metadata_from_filepath", true),
    maxLogSize: r.byteSize("max_log_size", 1024 * 1024),
    parseFrom: readField(r, "parse_from", "body"),
  };
  // The parsed fields always go to attributes and body, as upstream; parse_to is accepted.
  readField(r, "parse_to", "attributes");
  for (const k of ["severity", "timestamp", "trace", "scope_name"]) {
    if (r.raw(k) !== undefined) {
      r.error(
        k,
        `${k} in the container operator is not supported yet: add a separate ${
          k === "severity" ? "severity_parser" : "time_parser"
        } operator`,
      );
    }
  }
  return { common, build: (ctx) => new ContainerParser(common, cfg, ctx) };
}
