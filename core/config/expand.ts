/**
 * Environment expansion inside config strings, as upstream's confmap resolver does it:
 * `${env:VAR}`, `${VAR}`, `${env:VAR:-default}`, and `$$` for a literal `$`.
 *
 * @module
 */

/** Where a variable's value comes from (Deno.env in production, a map in tests). */
export type EnvLookup = (name: string) => string | undefined;

/** Result of expanding one string. */
export interface Expansion {
  /** The expanded text. */
  readonly text: string;
  /** True when the whole input was one `${…}` reference (its value may then be typed YAML). */
  readonly whole: boolean;
  /** Problems found (unknown scheme, unterminated reference, bad variable name). */
  readonly errors: string[];
  /** Variables referenced without a default that are not set (upstream warns about them). */
  readonly unset: string[];
}

const VAR_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Reads `Deno.env`, returning `undefined` when env access is not permitted. */
export function denoEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Expands every reference in `input`. Unset variables without a default become "". */
export function expandEnv(input: string, env: EnvLookup): Expansion {
  if (!input.includes("$")) return { text: input, whole: false, errors: [], unset: [] };
  const errors: string[] = [];
  const unset: string[] = [];
  let out = "";
  let refs = 0;
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c !== "$") {
      out += c;
      i++;
      continue;
    }
    if (input[i + 1] === "$") {
      out += "$";
      i += 2;
      continue;
    }
    if (input[i + 1] !== "{") {
      out += "$";
      i++;
      continue;
    }
    const end = input.indexOf("}", i + 2);
    if (end < 0) {
      errors.push(`Unterminated reference "${input.slice(i)}": add a closing "}"`);
      out += input.slice(i);
      break;
    }
    out += resolveReference(input.slice(i + 2, end), env, errors, unset);
    refs++;
    i = end + 1;
  }
  const whole = refs === 1 && /^\$\{[^}]*\}$/.test(input);
  return { text: out, whole, errors, unset };
}

function resolveReference(
  ref: string,
  env: EnvLookup,
  errors: string[],
  unset: string[],
): string {
  let body = ref;
  const colon = ref.indexOf(":");
  if (colon >= 0) {
    const scheme = ref.slice(0, colon);
    if (scheme !== "env") {
      errors.push(
        `Unsupported config provider "${scheme}" in "\${${ref}}": only "env" is available`,
      );
      return "";
    }
    body = ref.slice(colon + 1);
  }
  let name = body;
  let fallback: string | undefined;
  const dash = body.indexOf(":-");
  if (dash >= 0) {
    name = body.slice(0, dash);
    fallback = body.slice(dash + 2);
  }
  if (!VAR_NAME.test(name)) {
    errors.push(`Invalid environment variable name "${name}" in "\${${ref}}"`);
    return "";
  }
  const value = env(name);
  if (value === undefined && fallback === undefined) unset.push(name);
  if (value === undefined || (value === "" && fallback !== undefined)) return fallback ?? "";
  return value;
}
