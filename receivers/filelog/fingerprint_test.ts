import assert from "node:assert/strict";
import { FingerprintIndex } from "./fingerprint.ts";

const enc = new TextEncoder();
const item = (text: string) => ({ name: text, fp: enc.encode(text) });

Deno.test("fingerprint index finds the longest known prefix of a head, whatever the lengths and shared prefixes", () => {
  const index = new FingerprintIndex<{ name: string; fp: Uint8Array }>();
  const ts = "2024-05-01T12:00:00.000000001Z stdout F "; // 41 bytes every CRI file shares
  const tiny = item("2024-05"); // shorter than the smallest key
  const short = item(`${ts}a`); // 16..63 bytes
  const mid = item(`${ts}${"m".repeat(40)}`); // 64..255 bytes
  const long = item(`${ts}${"l".repeat(300)}`); // 256+ bytes
  const other = item(`${ts}${"l".repeat(299)}x`);
  for (const x of [tiny, short, mid, long, other]) index.set(x);
  const all = () => true;
  assert.equal(index.find(enc.encode(`${ts}${"l".repeat(400)}`), all), long);
  assert.equal(index.find(enc.encode(`${ts}${"l".repeat(299)}x and more`), all), other);
  assert.equal(index.find(enc.encode(`${ts}${"m".repeat(50)}`), all), mid);
  assert.equal(index.find(enc.encode(`${ts}a${"z".repeat(500)}`), all), short);
  assert.equal(index.find(enc.encode(`${ts}b`), all), tiny);
  assert.equal(index.find(enc.encode("2024-06"), all), undefined);
  // `accept` can rule out the best match: the next best is returned.
  assert.equal(index.find(enc.encode(`${ts}${"l".repeat(400)}`), (x) => x !== long), tiny);
});

Deno.test("fingerprint index re-indexes a grown fingerprint and forgets deleted items", () => {
  const index = new FingerprintIndex<{ fp: Uint8Array }>();
  const grows = { fp: enc.encode("0123456789") };
  index.set(grows);
  const head = enc.encode(`0123456789${"x".repeat(300)}`);
  assert.equal(index.find(head, () => true), grows);
  grows.fp = head.slice(0, 280);
  index.set(grows);
  assert.equal(index.size, 1);
  assert.equal(index.find(head, () => true), grows);
  assert.equal(index.find(enc.encode("0123456789"), () => true), undefined, "now longer");
  index.delete(grows);
  assert.equal(index.size, 0);
  assert.equal(index.find(head, () => true), undefined);
});
