import { CliError } from "../cli-error.js";
import { configFilePath, readConfigFile } from "./config-file.js";

/** Every context in the config file, for `list --all-contexts`; none is an error that says how to add one. */
export function allContextNames(configDir: string): string[] {
  const path = configFilePath(configDir);
  const names = Object.keys(readConfigFile(path).contexts);
  if (names.length === 0) {
    throw new CliError(
      "JW_ERR_CLI_CONFIG",
      `--all-contexts: ${path} has no contexts; add one with 'runjob context add NAME --server HOST:PORT --cert F --key F --ca F'`,
    );
  }
  return names;
}
