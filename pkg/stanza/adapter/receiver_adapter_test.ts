import assert from "node:assert/strict";
import { type LogsConsumer, PermanentError, RetryableError } from "../../../core/consumer.ts";
import { encodedPieces } from "../../../core/pdata/encoded_logs.ts";
import { logRecordCount, type Logs } from "../../../core/pdata/logs.ts";
import { type EntrySource, newEntry } from "../entry.ts";
import { testAdapter } from "../testing.ts";
import type { AckSource, ReceiverAdapter } from "./receiver_adapter.ts";

/** A source whose position is a line number (seq = position). */
class Lines implements AckSource<number> {
  readonly id = 1;
  read = 0;
  acked: number[] = [];
  mark(held: EntrySource | undefined): number {
    return held !== undefined && held.seq < this.read ? held.seq : this.read;
  }
  ack(m: number): void {
    this.acked.push(m);
  }
  /** Reads one line into the adapter. */
  line(a: ReceiverAdapter, body: string): void {
    const e = newEntry(body, 1n);
    e.src = { sourceId: this.id, seq: this.read, position: this.read };
    this.read++;
    a.process(e);
    a.touch(this);
  }
}

class Consumer implements LogsConsumer {
  constructor(readonly mutatesData = false, readonly keepsEncoded = false) {}
  readonly got: Logs[] = [];
  fail: Error[] = [];
  gate: Promise<void> | undefined;
  async consume(logs: Logs): Promise<void> {
    await this.gate;
    const err = this.fail.shift();
    if (err !== undefined) throw err;
    this.got.push(logs);
  }
}

Deno.test("adapter acknowledges a source only once its batch was accepted", async () => {
  const next = new Consumer();
  let open!: () => void;
  next.gate = new Promise((r) => open = r);
  const a = testAdapter(next);
  const src = new Lines();
  src.line(a, "one");
  src.line(a, "two");
  const counts: number[] = [];
  await a.flush((n) => void counts.push(n));
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(src.acked, [], "nothing acknowledged while the consumer has not answered");
  open();
  assert.equal(await a.settled(), true);
  assert.deepEqual(src.acked, [2]);
  assert.deepEqual(counts, [2]);
  assert.equal(logRecordCount(next.got[0]!), 2);
});

Deno.test("adapter never acknowledges past an entry an operator holds", async () => {
  const next = new Consumer();
  const a = testAdapter(next, [{ type: "container", add_metadata_from_filepath: false }]);
  const src = new Lines();
  const t = "2024-05-01T12:00:00.000000001Z stdout";
  src.line(a, `${t} F whole`);
  src.line(a, `${t} P first-`); // held by container
  await a.flush();
  await a.settled();
  assert.deepEqual(src.acked, [1], "stops at the held piece");
  src.line(a, `${t} F second`);
  await a.flush();
  await a.settled();
  assert.deepEqual(src.acked, [1, 3]);
});

Deno.test("adapter retries a retryable rejection, drops a permanent one, and gives up when abandoned", async () => {
  const next = new Consumer();
  const abandon = new AbortController();
  const a = testAdapter(next, [], { abandon });
  const src = new Lines();
  next.fail = [new RetryableError("busy"), new RetryableError("busy")];
  src.line(a, "kept");
  await a.flush();
  assert.equal(await a.settled(), true);
  assert.equal(next.got.length, 1, "delivered after two retries");
  assert.deepEqual(src.acked, [1]);

  next.fail = [new PermanentError("bad")];
  src.line(a, "dropped");
  await a.flush();
  await a.settled();
  assert.equal(next.got.length, 1, "a permanent rejection is not retried");
  assert.deepEqual(src.acked, [1, 2], "and its position moves on");

  next.fail = Array.from({ length: 1000 }, () => new RetryableError("down"));
  src.line(a, "abandoned");
  await a.flush();
  await new Promise((r) => setTimeout(r, 10));
  abandon.abort();
  assert.equal(await a.settled(), false);
  assert.deepEqual(src.acked, [1, 2], "an abandoned batch acknowledges nothing");
});

Deno.test("adapter hands encoded batches to a pipeline that changes no data or keeps them encoded, objects to others", async () => {
  const cases = [[false, false, true], [true, true, true], [true, false, false]] as const;
  for (const [mutates, keeps, encoded] of cases) {
    const next = new Consumer(mutates, keeps);
    const a = testAdapter(next);
    const src = new Lines();
    src.line(a, "one");
    src.line(a, "two");
    await a.flush();
    assert.equal(await a.settled(), true);
    assert.equal(encodedPieces(next.got[0]!) !== undefined, encoded);
    assert.deepEqual(
      next.got[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => r.body),
      [{ kind: "string", value: "one" }, { kind: "string", value: "two" }],
    );
  }
});
