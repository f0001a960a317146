/**
 * The repository is self-contained: a clone with nothing beside it must build and pass its
 * tests. This walks every source, script, config and document and fails on a relative path
 * that climbs above the repository root, or on a reference to the design folder that sits
 * beside the developers' checkout (a user's clone never has it).
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
/** Folders that are not part of the repository's content (caches, build output). */
const SKIP_DIRS = new Set([".git", "node_modules", ".tools", "dist", "coverage"]);
const TEXT_FILE = /\.(ts|mts|js|mjs|json|jsonc|ya?ml|sh|md|proto|toml)$|(^|\/)(Dockerfile|run)$/;
/** `../` repeated, then what follows it up to a quote, space or bracket. */
const RELATIVE_PATH = /(?<![\w.])((?:\.\.\/)+)([^\s"'`)\]}>,;]*)/g;
/** The sibling folders of the developers' checkout, by name. */
const OUTSIDE_NAMES = /(?<![\w-])(shared\/otlp-proto|shared\/reference|\.library\/)/;

/** Yields the repository-relative path of every text file under `dir`. */
function* textFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isSymlink) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      if (!SKIP_DIRS.has(entry.name)) yield* textFiles(path);
    } else if (entry.isFile && TEXT_FILE.test(relative(ROOT, path))) {
      yield relative(ROOT, path);
    }
  }
}

/** Every place in `text` (from file `file`) that points outside the repository. */
export function outsideReferences(file: string, text: string): string[] {
  const found: string[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    for (const m of line.matchAll(RELATIVE_PATH)) {
      const target = resolve(ROOT, dirname(file), m[1] + m[2]);
      if (relative(ROOT, target).startsWith("..")) found.push(`${file}:${i + 1}: ${m[0]}`);
    }
    const named = OUTSIDE_NAMES.exec(line);
    if (named) found.push(`${file}:${i + 1}: ${named[0]}`);
  });
  return found;
}

// The examples are assembled from pieces, so this file does not contain what it looks for.
const UP = (n: number) => "../".repeat(n);
const SHARED_PROTO = ["shared", "otlp-proto"].join("/");
const LIBRARY = "." + "library/";

Deno.test("the checker flags paths that leave the repository and accepts those that stay", () => {
  assert.deepEqual(
    outsideReferences("core/pdata/x_test.ts", `new URL("${UP(3)}${SHARED_PROTO}", u)`),
    [`core/pdata/x_test.ts:1: ${UP(3)}${SHARED_PROTO}`, `core/pdata/x_test.ts:1: ${SHARED_PROTO}`],
  );
  assert.deepEqual(outsideReferences("a/b.sh", `x\ncd $here/${UP(2)}.. && ls`), [
    `a/b.sh:2: ${UP(2)}..`,
  ]);
  assert.deepEqual(
    outsideReferences("core/pdata/x.ts", `new URL("${UP(2)}third_party/opentelemetry-proto", u)`),
    [],
  );
  assert.deepEqual(outsideReferences("README.md", `see ${UP(1)}${LIBRARY}env`), [
    `README.md:1: ${UP(1)}${LIBRARY}env`,
    `README.md:1: ${LIBRARY}`,
  ]);
});

Deno.test("no file in the repository refers to a path outside it", () => {
  const found: string[] = [];
  let files = 0;
  for (const file of textFiles(ROOT)) {
    files++;
    found.push(...outsideReferences(file, Deno.readTextFileSync(join(ROOT, file))));
  }
  assert.ok(files > 100, `walked only ${files} files from ${ROOT}`);
  assert.deepEqual(found, [], "paths outside the repository (a clone has nothing beside it)");
});
