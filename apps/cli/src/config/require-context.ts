import { CliError } from "../cli-error.js";
import type { ConfigFile } from "./config-file.js";
import { didYouMean } from "./nearest-name.js";

/** Fails, naming the nearest known context, unless `name` is one of the file's contexts. */
export function requireContext(file: ConfigFile, name: string): void {
  if (name in file.contexts) return;
  const known = Object.keys(file.contexts);
  throw new CliError(
    "JW_ERR_CLI_CONFIG",
    `no context named "${name}"${didYouMean(name, known, (n) => `"${n}"`)}; ` +
      (known.length > 0 ? `known contexts: ${known.join(", ")}` : "there are none yet ('runjob context add')"),
  );
}
