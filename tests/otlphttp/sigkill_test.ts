/**
 * The exporter with a persistent queue (real file_storage extension) is SIGKILLed again and
 * again while it sends to a flaky backend (503, 429, resets, slow answers). After the last
 * restart drained the queue, every record whose `consume` had resolved has arrived.
 * Duplicates are allowed (at-least-once) and reported.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { idsOf } from "../../core/exporterhelper/_test_logs.ts";
import { Prng } from "../../core/pdata/testing.ts";
import { type SinkReply, startOtlpSink } from "../fakes/otlp_sink.ts";

const CHILD = fileURLToPath(new URL("./_child.ts", import.meta.url));

class Child {
  readonly proc: Deno.ChildProcess;
  readonly lines: string[] = [];
  stderr = "";
  readonly done: Promise<void>;
  #wake: (() => void) | undefined;

  constructor(options: Record<string, unknown>) {
    this.proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", CHILD, JSON.stringify(options)],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.done = Promise.all([this.#read(), this.#readErr()]).then(() => {});
  }

  async #read(): Promise<void> {
    let buf = "";
    for await (const chunk of this.proc.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        this.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      this.#wake?.();
    }
    this.#wake?.();
  }

  async #readErr(): Promise<void> {
    for await (const chunk of this.proc.stderr.pipeThrough(new TextDecoderStream())) {
      this.stderr += chunk;
    }
  }

  async waitForLine(line: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.includes(line)) {
      if (Date.now() > deadline) {
        throw new Error(
          `child did not print "${line}" within ${timeoutMs} ms; stderr:\n${this.stderr}`,
        );
      }
      await new Promise<void>((r) => {
        this.#wake = r;
        setTimeout(r, 50);
      });
    }
  }

  ranges(kind: "acked" | "producing"): Array<[number, number]> {
    return this.lines.filter((l) => l.startsWith(kind + " ")).map((l) => {
      const [, a, b] = l.split(" ");
      return [Number(a), Number(b)];
    });
  }
}

Deno.test("persistent queue: SIGKILL loop against a flaky backend loses no acknowledged record", async () => {
  const rng = new Prng(20260101);
  const flaky = (): SinkReply => {
    const x = rng.int(100);
    if (x < 60) return { kind: "ok" };
    if (x < 72) return { kind: "status", status: 503 };
    if (x < 80) return { kind: "status", status: 429, retryAfter: "0" };
    if (x < 90) return { kind: "reset" };
    return { kind: "slow", delayMs: 50 };
  };
  const sink = await startOtlpSink({ replyFn: flaky });
  const dir = await Deno.makeTempDir({ prefix: "otlphttp_sigkill_" });
  const acked = new Set<number>();
  const children: Child[] = [];
  let next = 0;
  const rounds = Number(Deno.env.get("ROUNDS") ?? 6);
  try {
    for (let round = 0; round < rounds; round++) {
      const child = new Child({ url: sink.url, dir, start: next, count: 4000, delayMs: 2 });
      children.push(child);
      await child.waitForLine("ready", 30_000);
      await new Promise((r) => setTimeout(r, 150 + rng.int(400)));
      child.proc.kill("SIGKILL");
      const status = await child.proc.status;
      await child.done;
      assert.equal(
        status.signal,
        "SIGKILL",
        `round ${round} was killed, not exited: ${child.stderr}`,
      );
      for (const [a, b] of child.ranges("acked")) for (let i = a; i <= b; i++) acked.add(i);
      const produced = child.ranges("producing");
      if (produced.length > 0) next = Math.max(next, produced.at(-1)![1] + 1);
    }
    assert.ok(acked.size > 0, "some records were acknowledged before the kills");
    const last = new Child({ url: sink.url, dir, start: next, count: 0 });
    children.push(last);
    await last.waitForLine("drained", 60_000);
    await last.proc.status;
    await last.done;

    const received = sink.requests
      .filter((r) => r.reply === "ok" || r.reply === "slow")
      .flatMap((r) => r.logs ? idsOf(r.logs) : []);
    const unique = new Set(received);
    const missing = [...acked].filter((id) => !unique.has(id));
    console.log(
      `sigkill: ${rounds} kills, ${acked.size} records acknowledged, ${unique.size} distinct received, ` +
        `${
          received.length - unique.size
        } duplicates, ${sink.count} requests (flaky answers included)`,
    );
    assert.deepEqual(
      missing.slice(0, 20),
      [],
      `${missing.length} acknowledged records never arrived`,
    );
  } finally {
    for (const c of children) {
      try {
        c.proc.kill("SIGKILL");
      } catch { /* already gone */ }
      await c.done.catch(() => {});
      await c.proc.status;
    }
    await sink.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
