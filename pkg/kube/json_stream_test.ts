import assert from "node:assert/strict";
import { LineStreamParser, ListStreamParser } from "./json_stream.ts";

const encoder = new TextEncoder();

function parseInChunks(text: string, size: number): { items: unknown[]; meta: unknown } {
  const items: unknown[] = [];
  const p = new ListStreamParser((item) => items.push(item));
  const bytes = encoder.encode(text);
  for (let off = 0; off < bytes.length; off += size) p.feed(bytes.subarray(off, off + size));
  p.finish();
  return { items, meta: p.meta };
}

const TRICKY = {
  kind: "PodList",
  apiVersion: "v1",
  extra: { items: [{ notAnItem: true }], s: "]}{[" },
  metadata: { resourceVersion: "42", continue: "abc" },
  items: [
    { metadata: { name: "a", annotations: { x: 'quote " and \\ and \\" and {[' } } },
    { metadata: { name: "b\\" }, list: [1, [2, { z: "}" }]] },
    { metadata: { name: "ünïcødé 🚀" } },
  ],
};

Deno.test("list parser: items and metadata at every chunk size, escapes and nesting", () => {
  const text = JSON.stringify(TRICKY);
  for (const size of [1, 2, 3, 7, 64, text.length]) {
    const { items, meta } = parseInChunks(text, size);
    assert.deepEqual(items, TRICKY.items, `chunk size ${size}`);
    assert.deepEqual(meta, TRICKY.metadata, `chunk size ${size}`);
  }
});

Deno.test("list parser: metadata after items and an empty list", () => {
  const text = `{"items":[{"a":1}],"metadata":{"resourceVersion":"7"}}`;
  assert.deepEqual(parseInChunks(text, 5), { items: [{ a: 1 }], meta: { resourceVersion: "7" } });
  assert.deepEqual(parseInChunks(`{"items":[],"metadata":{}}`, 3), { items: [], meta: {} });
});

Deno.test("list parser: a truncated response is an error", () => {
  assert.throws(() => parseInChunks(`{"items":[{"a":1},{"b":`, 4), SyntaxError);
});

Deno.test("line parser: events split across chunks, a last line without newline", () => {
  const got: unknown[] = [];
  const p = new LineStreamParser((v) => got.push(v));
  const text = `{"type":"ADDED","object":{"x":"a\\nb"}}\n\n{"type":"BOOKMARK","object":{}}`;
  const bytes = encoder.encode(text);
  for (let i = 0; i < bytes.length; i += 5) p.feed(bytes.subarray(i, i + 5));
  p.finish();
  assert.deepEqual(got, [
    { type: "ADDED", object: { x: "a\nb" } },
    { type: "BOOKMARK", object: {} },
  ]);
});
