/**
 * Dependencies point one way (ARCHITECTURE.md): a library in `pkg/<name>/` imports only
 * `core/` and its own folder; a component folder (`receivers/x/`, `processors/y/`, …)
 * imports only `core/`, `pkg/` and itself. `components.ts` at the root is the one place
 * that imports every component. Test files may also import the shared fixtures in `tests/`,
 * and `components.ts` to build a whole collector.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const COMPONENT_KINDS = ["receivers", "processors", "exporters", "extensions", "connectors"];

/**
 * Test files that exercise two components together on purpose, with the reason. Anything
 * else crossing component folders fails.
 */
const CROSS_COMPONENT_TESTS: ReadonlyMap<string, string> = new Map([
  ["receivers/otlp/grpc_server_test.ts", "gRPC auth through the real bearertokenauth extension"],
  ["receivers/otlp/grpc_sdk_test.ts", "the SDK's gRPC client against bearertokenauth"],
]);

/** `from "x"`, `import "x"`, `import("x")`: the specifier of every static or dynamic import. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

/** The relative specifiers a module imports, with their line numbers. */
export function relativeImports(text: string): { line: number; spec: string }[] {
  const out: { line: number; spec: string }[] = [];
  text.split("\n").forEach((line, i) => {
    for (const m of line.matchAll(IMPORT)) {
      if (m[1]!.startsWith(".")) out.push({ line: i + 1, spec: m[1]! });
    }
  });
  return out;
}

/** The folder a repository path belongs to for this rule: `pkg/ottl`, `processors/filter`, `core`, … */
function owner(path: string): string {
  const parts = path.split("/");
  if (parts[0] === "pkg" || COMPONENT_KINDS.includes(parts[0]!)) return parts.slice(0, 2).join("/");
  return parts[0]!;
}

function isTestFile(path: string): boolean {
  const name = path.split("/").pop()!;
  return name.endsWith("_test.ts") || name.startsWith("_");
}

/** Why `file` may not import `target` (both repository-relative), or undefined when it may. */
export function violation(file: string, target: string): string | undefined {
  const from = owner(file);
  const to = owner(target);
  if (to === from || to === "core") return undefined;
  if ((to === "tests" || target === "components.ts") && isTestFile(file)) return undefined;
  if (from.startsWith("pkg/")) return `${from} may import only core/ and itself`;
  if (to.startsWith("pkg/")) return undefined;
  if (COMPONENT_KINDS.includes(to.split("/")[0]!) && CROSS_COMPONENT_TESTS.has(file)) {
    return undefined;
  }
  return `${from} may import only core/, pkg/ and itself`;
}

/** Every TypeScript file under `dir` (repository-relative). */
function* tsFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(join(ROOT, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* tsFiles(path);
    else if (entry.isFile && /\.m?ts$/.test(entry.name)) yield path;
  }
}

/** The imports that break the rule in `file` (repository-relative) with `text` as content. */
export function badImports(file: string, text: string): string[] {
  const found: string[] = [];
  for (const { line, spec } of relativeImports(text)) {
    const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
    const why = violation(file, target);
    if (why !== undefined) found.push(`${file}:${line}: ${spec} (${why})`);
  }
  return found;
}

Deno.test("the checker tells allowed imports from forbidden ones", () => {
  const check = (file: string, spec: string) => badImports(file, `import { x } from "${spec}";`);
  assert.deepEqual(check("pkg/ottl/paths.ts", "../../core/pdata/logs.ts"), []);
  assert.deepEqual(check("pkg/stanza/operator/add.ts", "../entry.ts"), []);
  assert.deepEqual(check("pkg/filter/match.ts", "../ottl/values.ts"), [
    "pkg/filter/match.ts:1: ../ottl/values.ts (pkg/filter may import only core/ and itself)",
  ]);
  assert.equal(check("pkg/ottl/functions.ts", "../../receivers/filelog/config.ts").length, 1);
  assert.equal(check("pkg/kube/client.ts", "../../tests/fakes/kube_api.ts").length, 1);
  assert.deepEqual(check("pkg/kube/client_test.ts", "../../tests/fakes/kube_api.ts"), []);
  assert.deepEqual(check("connectors/routing/collector_test.ts", "../../components.ts"), []);
  assert.equal(check("connectors/routing/router.ts", "../../components.ts").length, 1);
  assert.deepEqual(check("processors/filter/config.ts", "../../pkg/ottl/mod.ts"), []);
  assert.equal(check("processors/filter/config.ts", "../attributes/config.ts").length, 1);
  assert.equal(check("connectors/routing/mod.ts", "../../processors/filter/mod.ts").length, 1);
  assert.equal(
    check("exporters/otlphttp/x_test.ts", "../../extensions/headers_setter/mod.ts").length,
    1,
  );
  assert.deepEqual(
    badImports(
      "processors/a/b.ts",
      'export { y } from "../../core/x.ts";\nawait import("../c/d.ts");',
    ),
    ["processors/a/b.ts:2: ../c/d.ts (processors/a may import only core/, pkg/ and itself)"],
  );
  assert.deepEqual(
    badImports("pkg/x/y.ts", 'import type {\n  A,\n} from "../z/w.ts";\nimport "node:fs";'),
    ["pkg/x/y.ts:3: ../z/w.ts (pkg/x may import only core/ and itself)"],
  );
});

Deno.test("pkg/ imports only core/; components import only core/, pkg/ and themselves", () => {
  const found: string[] = [];
  let files = 0;
  for (const top of ["pkg", ...COMPONENT_KINDS]) {
    for (const file of tsFiles(top)) {
      files++;
      found.push(...badImports(file, Deno.readTextFileSync(join(ROOT, file))));
    }
  }
  assert.ok(files > 100, `walked only ${files} files`);
  assert.deepEqual(found, [], "imports against the dependency direction");
});
