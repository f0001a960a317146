import assert from "node:assert/strict";
import { orderPaths } from "./ordering.ts";
import { mustParse, plainHost, receiver, Sink, tempDir } from "./test_helpers.ts";

function ordering(criteria: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const cfg = mustParse({ include: ["/logs/*.log"], ordering_criteria: criteria, ...extra });
  assert.ok(cfg.ordering !== undefined);
  return cfg.ordering;
}

const noMtime = (): number | undefined => {
  throw new Error("no stat expected");
};

Deno.test("ordering_criteria numeric: the highest captured number first, top_n kept, unparsable left out", () => {
  const o = ordering({
    regex: "app-(?P<seq>[^.]+)\\.log$",
    top_n: 2,
    sort_by: [{ regex_key: "seq", sort_type: "numeric" }],
  });
  const paths = ["/logs/app-9.log", "/logs/app-10.log", "/logs/app-x.log", "/logs/other.log"];
  assert.deepEqual(orderPaths(paths, o, 0, noMtime), ["/logs/app-10.log", "/logs/app-9.log"]);
  const asc = ordering({
    regex: "app-(?P<seq>\\d+)",
    top_n: 0, // 0 keeps every file
    sort_by: [{ regex_key: "seq", sort_type: "numeric", ascending: true }],
  });
  assert.deepEqual(orderPaths(paths, asc, 0, noMtime), ["/logs/app-9.log", "/logs/app-10.log"]);
});

Deno.test("ordering_criteria top_n defaults to 1; alphabetical and timestamp sorts", () => {
  const alpha = ordering({
    regex: "/(?P<name>[a-z]+)\\.log$",
    sort_by: [{ regex_key: "name", sort_type: "alphabetical" }],
  });
  assert.deepEqual(orderPaths(["/logs/b.log", "/logs/c.log", "/logs/a.log"], alpha, 0, noMtime), [
    "/logs/c.log",
  ]);
  const ts = ordering({
    regex: "(?P<day>\\d{8})_(?P<hour>\\d{2})",
    top_n: 3,
    sort_by: [{ regex_key: "day", sort_type: "timestamp", layout: "%Y%m%d", location: "UTC" }],
  });
  const paths = [
    "/logs/20240102_01.log",
    "/logs/20231231_05.log",
    "/logs/20241301_00.log", // month 13: not a date, left out
    "/logs/20240215_07.log",
  ];
  assert.deepEqual(orderPaths(paths, ts, 0, noMtime), [
    "/logs/20240215_07.log",
    "/logs/20240102_01.log",
    "/logs/20231231_05.log",
  ]);
});

Deno.test("ordering_criteria group_by keeps top_n per group; several sort_by rules, the last one primary", () => {
  const o = ordering({
    regex: "/(?P<svc>[a-z]+)-(?P<day>\\d+)-(?P<part>\\d+)\\.log$",
    group_by: "/([a-z]+)-",
    top_n: 2,
    sort_by: [
      { regex_key: "part", sort_type: "numeric" },
      { regex_key: "day", sort_type: "numeric" },
    ],
  });
  const paths = [
    "/logs/api-1-1.log",
    "/logs/api-2-1.log",
    "/logs/api-2-2.log",
    "/logs/web-5-1.log",
    "/logs/web-4-9.log",
    "/logs/web-3-1.log",
    "/logs/NOGROUP.log",
  ];
  assert.deepEqual(orderPaths(paths, o, 0, noMtime), [
    "/logs/api-2-2.log", // day 2, part 2 before part 1
    "/logs/api-2-1.log",
    "/logs/web-5-1.log",
    "/logs/web-4-9.log",
  ]);
});

Deno.test("ordering_criteria mtime: newest first; exclude_older_than applies before top_n", () => {
  const mtimes: Record<string, number> = {
    "/logs/a.log": 1000,
    "/logs/b.log": 3000,
    "/logs/c.log": 2000,
  };
  const o = ordering({ top_n: 2, sort_by: [{ sort_type: "mtime" }] });
  assert.deepEqual(orderPaths(Object.keys(mtimes), o, 4000, (p) => mtimes[p]), [
    "/logs/b.log",
    "/logs/c.log",
  ]);
  const old = ordering({ top_n: 2, sort_by: [{ sort_type: "mtime", ascending: true }] }, {
    exclude_older_than: "2500ms",
  });
  // a.log is 3s old at t=4000: excluded first, so top 2 oldest are c then b.
  assert.deepEqual(orderPaths(Object.keys(mtimes), old, 4000, (p) => mtimes[p]), [
    "/logs/c.log",
    "/logs/b.log",
  ]);
  // A file that vanished before its stat is left out.
  assert.deepEqual(orderPaths(["/logs/gone.log", "/logs/b.log"], o, 4000, (p) => mtimes[p]), [
    "/logs/b.log",
  ]);
});

Deno.test("filelog with ordering_criteria reads only the newest numbered file and moves on to the next", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/app.1.log`, "old 1\n");
  await Deno.writeTextFile(`${dir}/app.2.log`, "current 1\n");
  const sink = new Sink();
  const r = receiver({
    include: [`${dir}/app.*.log`],
    start_at: "beginning",
    poll_interval: "1h",
    ordering_criteria: {
      regex: "app\\.(?P<n>\\d+)\\.log$",
      top_n: 1,
      sort_by: [{ regex_key: "n", sort_type: "numeric" }],
    },
  }, sink);
  await r.start(plainHost);
  await r.pollOnce();
  assert.deepEqual(sink.bodies(), ["current 1"]);
  await Deno.writeTextFile(`${dir}/app.2.log`, "current 2\n", { append: true });
  await Deno.writeTextFile(`${dir}/app.3.log`, "next 1\n");
  await r.pollOnce();
  await r.shutdown();
  // app.2 left the selection: its tail is drained (as a lost file), then app.3 is read.
  assert.deepEqual(sink.bodies(), ["current 1", "current 2", "next 1"]);
  await Deno.remove(dir, { recursive: true });
});
