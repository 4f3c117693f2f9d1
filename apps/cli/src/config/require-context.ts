import { CliError } from "../cli-error.js";
import type { ConfigFile, Context } from "./config-file.js";
import { didYouMean } from "./nearest-name.js";

/** The context called `name`; if there is none, fails naming the nearest known one. */
export function requireContext(file: ConfigFile, name: string): Context {
  const context = file.contexts[name];
  if (context) return context;
  const known = Object.keys(file.contexts);
  throw new CliError(
    "JW_ERR_CLI_CONFIG",
    `no context named "${name}"${didYouMean(name, known, (n) => `"${n}"`)}; ` +
      (known.length > 0 ? `known contexts: ${known.join(", ")}` : "there are none yet ('runjob context add')"),
  );
}
