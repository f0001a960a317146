import assert from "node:assert/strict";
import type { LogsConsumer } from "../../../core/consumer.ts";
import { encodedPieces, joinPieces } from "../../../core/pdata/encoded_logs.ts";
import type { Logs } from "../../../core/pdata/logs.ts";
import { decodeLogsRequest } from "../../../core/pdata/otlp_proto.ts";
import { type Entry, type ValueMap } from "../entry.ts";
import type { RawLine } from "../raw_line.ts";
import { testAdapter } from "../testing.ts";

class Consumer implements LogsConsumer {
  readonly mutatesData = false;
  readonly keepsEncoded = true;
  readonly got: Logs[] = [];
  consume(logs: Logs): Promise<void> {
    this.got.push(logs);
    return Promise.resolve();
  }
}

const POD = "/var/log/pods/shop_cart-7d9f_0f6c7a2e-1b2c-4d5e-8f90-123456789abc/cart/0.log";
const OTHER = "/var/log/pods/shop_cart-7d9f_0f6c7a2e-1b2c-4d5e-8f90-123456789abc/side/1.log";
const THIRD = "/var/log/pods/shop_web-5c4b_1a2b3c4d-1b2c-4d5e-8f90-123456789abc/web/0.log";
const NOT_A_POD = "/var/log/other.log";
const PATHS = [POD, OTHER, THIRD, NOT_A_POD];
const sourceId = (path: string) => PATHS.indexOf(path) + 1;
const fileAttrs = (path: string): ValueMap => ({
  "log.file.name": path.slice(path.lastIndexOf("/") + 1),
  "log.file.path": path,
});
const NO_RESOURCE: ValueMap = {};
const decoder = new TextDecoder();

/** The entry a file receiver makes of a line (as filelog's reader does). */
function entryOf(bytes: Uint8Array, path: string, attrs: ValueMap, seq: number): Entry {
  return {
    body: decoder.decode(bytes),
    attributes: { ...attrs },
    resource: NO_RESOURCE,
    resourceShared: true,
    timestamp: 0n,
    observed: 7n,
    severity: 0,
    severityText: "",
    src: { sourceId: sourceId(path), seq, position: seq },
  };
}

/** Lines of both files: whole, split, odd and broken, in the order a reader meets them. */
function lines(): Array<[Uint8Array, string]> {
  const enc = new TextEncoder();
  const text = (s: string) => enc.encode(s);
  const out: Array<[Uint8Array, string]> = [
    [text("2026-12-04T09:00:00.000000001Z stdout F plain line"), POD],
    [text("2026-12-04T09:00:00.5Z stderr F to stderr"), POD],
    [text("2026-12-04T09:00:00.6Z stdout F  two spaces before"), POD],
    [text("2026-12-04T09:00:00.7Z stdout F "), POD],
    [text("2026-12-04T09:00:00.7Z stdout F"), POD],
    [text("2026-12-04T09:00:01Z stdout F no fraction"), POD],
    [text("2026-12-04T09:00:01.1+02:00 stdout F with a zone"), POD],
    [text("2026-12-04T09:00:01.2+02:00 stdout F same zone"), POD],
    [text("2026-12-04T09:00:01.3Z stdout F caf\u00e9 \u{1F600} \uFFFD"), POD],
    [text("2026-12-04T09:00:01.4Z stdout P first piece, "), POD],
    [text("2026-12-04T09:00:01.45Z stdout F another pod's line while a piece waits"), THIRD],
    [text("2026-12-04T09:00:01.5Z stderr F other stream while a piece waits"), POD],
    [text("2026-12-04T09:00:01.6Z stdout P second piece, "), OTHER],
    [text("2026-12-04T09:00:01.7Z stdout F last piece"), POD],
    [text("2026-12-04T09:00:01.8Z stdout F other file's line"), OTHER],
    [text("2026-12-04T09:00:01.9Z stdout F other file's end"), OTHER],
    [text("2026-12-04T09:00:02.0Z stdout F:x odd tag"), POD],
    [text("2026-12-04T09:00:02.1Z stdin F odd stream"), POD],
    [text("2026-12-04T09:00:02.2Zx stdout F bad time"), POD],
    [text("2026-12-04T09:00:02.3Z  stdout F double space"), POD],
    [text('{"log":"docker\\n","stream":"stdout","time":"2026-12-04T09:00:02.4Z"}'), POD],
    [text("\uFEFF2026-12-04T09:00:02.5Z stdout F after a BOM"), POD],
    [text("2026-12-04T09:00:02.6Z stdout F fine again"), NOT_A_POD],
    [new Uint8Array([...text("2026-12-04T09:00:02.7Z stdout F bad \xff"), 0xff, 0x41]), POD],
    [text("2026-12-04T09:00:02.8Z stdout F fine again"), POD],
  ];
  return out;
}

function sent(next: Consumer): Uint8Array {
  return joinPieces(next.got.flatMap((l) => encodedPieces(l)!));
}

Deno.test("the line lane gives the container operator's records byte for byte, and takes only what it can", async () => {
  for (const validText of [false, true]) {
    const [viaLane, viaEntries] = [new Consumer(), new Consumer()];
    const ops = [{ type: "container", on_error: "send_quiet" }];
    const a = testAdapter(viaLane, ops);
    const b = testAdapter(viaEntries, ops);
    const lane = a.lineLane();
    assert.ok(lane !== undefined);
    const attrsOf = new Map(PATHS.map((p) => [p, fileAttrs(p)]));
    const taken: number[] = [];
    const all = lines();
    all.forEach(([bytes, path], i) => {
      // Framed by other bytes, as in a reader's buffer.
      const buf = new Uint8Array(bytes.length + 8);
      buf.set(bytes, 4);
      const attrs = attrsOf.get(path)!;
      const valid = validText && !bytes.includes(0xff);
      const line: RawLine = {
        sourceId: sourceId(path),
        bytes: buf,
        start: 4,
        end: 4 + bytes.length,
        validText: valid,
        attributes: attrs,
        observed: 7n,
      };
      if (lane(line)) taken.push(i);
      else a.process(entryOf(bytes, path, attrs, i));
      b.process(entryOf(bytes, path, attrs, i));
      buf.fill(0x20); // the reader reuses its buffer
    });
    a.tick(Date.now() + 60_000); // emit any piece still held
    b.tick(Date.now() + 60_000);
    await a.flush();
    await b.flush();
    assert.deepEqual(sent(viaLane), sent(viaEntries));
    // Each container's, and none for the file whose path is not a pod's (the operator failed).
    assert.equal(decodeLogsRequest(sent(viaLane)).resourceLogs.length, 4);
    // The lane took the plain whole lines (another pod's too while a piece waits), not the
    // pieces, the lines of a file whose pieces wait, or the odd and broken ones.
    assert.deepEqual(
      taken.map((i) => {
        const t = decoder.decode(all[i]![0]);
        return t.slice(t.indexOf(" F ") + 1);
      }),
      [
        "plain line",
        "to stderr",
        " two spaces before",
        "",
        "no fraction",
        "with a zone",
        "same zone",
        "caf\u00e9 \u{1F600} \uFFFD",
        "another pod's line while a piece waits",
        "other file's end",
        "fine again",
      ].map((t) => `F ${t}`),
    );
  }
});

Deno.test("the line lane is there only for a chain of the container operator alone, without if", () => {
  const next = new Consumer();
  assert.ok(testAdapter(next, [{ type: "container" }]).lineLane() !== undefined);
  assert.equal(testAdapter(next, []).lineLane(), undefined);
  assert.equal(testAdapter(next, [{ type: "container", if: "body != nil" }]).lineLane(), undefined);
  assert.equal(
    testAdapter(next, [{ type: "container" }, { type: "add", field: "attributes.a", value: "b" }])
      .lineLane(),
    undefined,
  );
  assert.equal(testAdapter(next, [{ type: "json_parser" }]).lineLane(), undefined);
  for (
    const container of [
      { format: "docker" },
      { add_metadata_from_filepath: false },
      { parse_from: "attributes.line" },
    ]
  ) {
    const ops = [{ type: "container", ...container }];
    assert.equal(testAdapter(next, ops).lineLane(), undefined, JSON.stringify(container));
  }
  assert.ok(testAdapter(next, [{ type: "container", format: "containerd" }]).lineLane());
  const objects: LogsConsumer = { mutatesData: true, consume: () => Promise.resolve() };
  assert.equal(testAdapter(objects, [{ type: "container" }]).lineLane(), undefined, "not encoding");
});
