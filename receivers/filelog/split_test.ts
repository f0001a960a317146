import assert from "node:assert/strict";
import { compileGoRegex } from "../../core/regex/go_regex.ts";
import { Splitter } from "./split.ts";
import { mustParse } from "./test_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Tok {
  s: number;
  e: number;
  next: number;
  cut: boolean;
}

function split(
  cfg: Record<string, unknown>,
  data: Uint8Array,
  flush: boolean,
): { toks: Tok[]; used: number } {
  const sp = new Splitter(mustParse({ include: ["/x"], ...cfg }));
  const toks: Tok[] = [];
  const used = sp.split(data, 0, data.length, flush, (s, e, next, cut) => {
    toks.push({ s, e, next, cut });
  });
  return { toks, used };
}

/**
 * 20,000 multi-line records of 1-3 lines with multi-byte characters: about 5 MiB, so more
 * than one decoding segment. (Decoding per token, as before, took seconds on this.)
 */
function records(): { data: Uint8Array; starts: number[]; texts: string[] } {
  const texts: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    let t = `2024-01-01 00:00:${String(i % 60).padStart(2, "0")} INFO é record ${i} ${
      "x".repeat((i * 37) % 300)
    }.`;
    for (let k = 0; k < i % 3; k++) t += `\n  at frame ${k} ü ${"y".repeat((i * 13) % 50)};`;
    texts.push(t);
  }
  const parts = texts.map((t) => enc.encode(t + "\n"));
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const starts: number[] = [];
  let off = 0;
  for (const p of parts) {
    starts.push(off);
    data.set(p, off);
    off += p.length;
  }
  return { data, starts, texts };
}

Deno.test("line_start_pattern over 20,000 records (5 MiB): every record once, exact byte offsets", () => {
  const { data, starts, texts } = records();
  assert.ok(data.length > 4 * 1024 * 1024);
  const cfg = { multiline: { line_start_pattern: "^\\d{4}-\\d{2}-\\d{2} " } };
  const { toks, used } = split(cfg, data, true);
  assert.equal(used, data.length);
  assert.equal(toks.length, texts.length);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const next = starts[i + 1] ?? data.length;
    // The token runs to the next record's start; the trailing newline is trimmed.
    assert.deepEqual(t, { s: starts[i]!, e: next - 1, next, cut: false }, `record ${i}`);
  }
  for (const i of [0, 1, 2, 9_999, 19_999]) {
    assert.equal(dec.decode(data.subarray(toks[i]!.s, toks[i]!.e)), texts[i]);
  }
  // Without flush the last record waits for the next start (or force_flush_period).
  const held = split(cfg, data, false);
  assert.equal(held.toks.length, texts.length - 1);
  assert.equal(held.used, starts[starts.length - 1]);
});

Deno.test("line_end_pattern over 20,000 records, with omit_pattern: exact offsets", () => {
  const { data, starts, texts } = records();
  // End each record at a marker line instead.
  const marked = enc.encode(texts.map((t) => `${t}\nEND\n`).join(""));
  const { toks, used } = split(
    {
      multiline: { line_end_pattern: "^END$", omit_pattern: true },
    },
    marked,
    false,
  );
  assert.equal(toks.length, texts.length);
  assert.equal(used, marked.length - 1); // the last newline starts the next (empty) read
  let off = 0;
  for (let i = 0; i < texts.length; i++) {
    const len = (starts[i + 1] ?? data.length) - starts[i]!;
    const t = toks[i]!;
    assert.equal(t.s, off, `record ${i} start`); // END's newline is trimmed
    assert.equal(t.e, off + len - 1, `record ${i} end`);
    assert.equal(t.next, off + len + 3, `record ${i} next`);
    off += len + 4;
  }
  assert.equal(dec.decode(marked.subarray(toks[7]!.s, toks[7]!.e)), texts[7]);
});

Deno.test("multiline: a record longer than max_log_size is cut there, on a character boundary", () => {
  const text = "START! " + "é".repeat(20) + "\nmore\nSTART two\n";
  const data = enc.encode(text);
  const { toks } = split(
    {
      max_log_size: 16,
      multiline: { line_start_pattern: "^START" },
    },
    data,
    true,
  );
  const bodies = toks.map((t) => dec.decode(data.subarray(t.s, t.e)));
  // "START! " is 7 bytes: a cut at 16 would split the fifth two-byte é, so it moves to 15.
  assert.deepEqual(bodies, [
    "START! " + "é".repeat(4),
    "é".repeat(8),
    "é".repeat(8),
    "\nmore".trim(),
    "START two",
  ]);
  assert.deepEqual(toks.map((t) => t.cut), [true, true, true, false, false]);
  assert.deepEqual(toks.map((t) => t.next), [15, 31, 47, 53, 63]);
});

Deno.test("a multiline pattern compiled by go_regex keeps its Go flags: (?i)^start matches START", () => {
  const base = mustParse({ include: ["/x"], multiline: { line_start_pattern: "^x" } });
  const cfg = {
    ...base,
    multiline: { lineStartPattern: compileGoRegex("(?i)^start", "gm"), omitPattern: false },
  };
  const data = enc.encode("START one\n  more\nstart two\nStArT three\n");
  const toks: string[] = [];
  new Splitter(cfg).split(data, 0, data.length, true, (s, e) => {
    toks.push(dec.decode(data.subarray(s, e)));
  });
  assert.deepEqual(toks, ["START one\n  more", "start two", "StArT three"]);
});
