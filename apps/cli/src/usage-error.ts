import { CliError } from "./cli-error.js";
import { didYouMean } from "./config/nearest-name.js";

/** What a usage error is explained against: the command as run, and the flags it knows. */
export interface CommandUsage {
  id: string;
  argv: readonly string[];
  /** False for commands whose arguments are a command line (start): there, unknown flags may be the job's. */
  strict: boolean;
  /** Flag names (without dashes) and single-letter chars, with whether each takes a value. */
  flags: Record<string, { char?: string; type: "boolean" | "option" }>;
}

/**
 * Rephrases oclif's parse errors as one line that says what to do: an unknown
 * flag gets the nearest known one, or, after a command line, the `--` that
 * passes it to the job; a bad flag value keeps oclif's reason. Undefined when
 * `error` is no parse error.
 */
export function explainUsageError(error: unknown, usage: CommandUsage): CliError | undefined {
  if (!(error instanceof Error) || !("oclif" in error)) return undefined;
  if ("flags" in error && Array.isArray(error.flags) && error.flags.length > 0) {
    const flag = String(error.flags[0]);
    const positional = firstPositional(usage);
    if (!usage.strict && positional !== undefined && usage.argv.indexOf(flag) > positional) {
      const commandLine = usage.argv.slice(positional).join(" ");
      return new CliError(
        "JW_ERR_USAGE",
        `${flag} is not a flag of 'runjob ${name(usage)}'; if it is meant for the job's command, put -- before that command: runjob ${name(usage)} [flags] -- ${commandLine}`,
      );
    }
    const known = Object.keys(usage.flags).map((name) => `--${name}`);
    return new CliError(
      "JW_ERR_USAGE",
      `${flag} is not a flag of 'runjob ${name(usage)}'${didYouMean(flag.replace(/=.*/, ""), known)}`,
    );
  }
  const parsing = /^Parsing (--[\w-]+)\s*\n\s*(.*?)(\nSee more help.*)?$/s.exec(error.message);
  if (parsing) return new CliError("JW_ERR_USAGE", `${parsing[1]}: ${parsing[2]?.trim()}`);
  return undefined;
}

/** Index in argv of the first argument that is neither a flag nor a flag's value. */
function firstPositional(usage: CommandUsage): number | undefined {
  const byChar = new Map(
    Object.entries(usage.flags).flatMap(([name, flag]) => (flag.char ? [[flag.char, name] as const] : [])),
  );
  for (let i = 0; i < usage.argv.length; i++) {
    const arg = usage.argv[i] ?? "";
    if (arg === "--") return i + 1 < usage.argv.length ? i + 1 : undefined;
    if (!arg.startsWith("-") || arg === "-") return i;
    if (arg.includes("=")) continue;
    const name = arg.startsWith("--") ? arg.slice(2) : byChar.get(arg.slice(1));
    if (name !== undefined && usage.flags[name]?.type === "option") i++;
  }
  return undefined;
}

/** The command as typed: "context add", not oclif's "context:add". */
function name(usage: CommandUsage): string {
  return usage.id.replaceAll(":", " ");
}
