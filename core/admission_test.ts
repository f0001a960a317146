import assert from "node:assert/strict";
import {
  admissionCheck,
  type AdmissionGate,
  BudgetExhaustedError,
  ByteBudget,
  isAdmissionGate,
} from "./admission.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("admissionCheck: the first gate that refuses answers; none → undefined", () => {
  let full = false;
  const a: AdmissionGate = { admission: () => undefined };
  const b: AdmissionGate = {
    admission: () => (full ? { message: "memory", retryAfterMs: 1000 } : undefined),
  };
  assert.equal(admissionCheck([]), undefined);
  const check = admissionCheck([a, b])!;
  assert.equal(check(), undefined);
  full = true;
  assert.deepEqual(check(), { message: "memory", retryAfterMs: 1000 });
  assert.ok(isAdmissionGate(b));
  assert.ok(!isAdmissionGate({ consume() {} }));
});

Deno.test("ByteBudget: waits in order while bytes would pass the limit, never holds more", async () => {
  const budget = new ByteBudget(100);
  const [a, b, c] = [budget.holder(), budget.holder(), budget.holder()];
  await budget.acquire(a, 60);
  const order: string[] = [];
  const pb = budget.acquire(b, 50).then(() => order.push("b"));
  const pc = budget.acquire(c, 10).then(() => order.push("c")); // fits, but waits its turn
  await tick();
  assert.deepEqual(order, []);
  assert.equal(budget.waiting, 2);
  budget.release(a);
  await Promise.all([pb, pc]);
  assert.deepEqual(order, ["b", "c"]);
  assert.equal(budget.inUse, 60);
  assert.equal(budget.peak, 60);
  budget.release(b);
  budget.release(c);
  assert.equal(budget.inUse, 0);
});

Deno.test("ByteBudget: more than the limit for one holder is refused at once", async () => {
  const budget = new ByteBudget(100);
  const h = budget.holder();
  await budget.acquire(h, 80);
  await assert.rejects(budget.acquire(h, 30), BudgetExhaustedError);
  assert.equal(budget.inUse, 80);
});

Deno.test("ByteBudget: when every holder waits, the newest is refused and the others go on", async () => {
  const budget = new ByteBudget(100);
  const [a, b] = [budget.holder(), budget.holder()];
  await budget.acquire(a, 50);
  await budget.acquire(b, 40);
  const pa = budget.acquire(a, 30); // waits for b
  const pb = budget.acquire(b, 30); // would wait for a: nobody could ever give bytes back
  await assert.rejects(pb, BudgetExhaustedError);
  assert.equal(b.held, 0, "the refused holder's bytes are given back");
  await pa;
  assert.equal(a.held, 80);
  assert.ok(budget.peak <= 100);
  budget.release(b); // the request's own release afterwards is harmless
  budget.release(a);
  assert.equal(budget.inUse, 0);
});
