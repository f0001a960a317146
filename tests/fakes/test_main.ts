/**
 * The CLI with the built-in and the test components, for subprocess tests
 * (same entry as mod.ts, run with the same permission flags as the binary).
 *
 * @module
 */

import { BUILTIN_FACTORIES, DEFAULT_CONFIG_YAML } from "../../components.ts";
import { runCli } from "../../core/cli.ts";
import { TEST_FACTORIES } from "./components.ts";

if (import.meta.main) {
  Deno.exit(
    await runCli(Deno.args, {
      factories: [...BUILTIN_FACTORIES, ...TEST_FACTORIES],
      defaultConfig: DEFAULT_CONFIG_YAML,
    }),
  );
}
