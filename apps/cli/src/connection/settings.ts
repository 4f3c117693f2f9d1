import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../cli-error.js";

/** How the CLI reaches the server. */
export interface ConnectionSettings {
  server: string;
  cert: string;
  key: string;
  ca: string;
}

export type SettingName = keyof ConnectionSettings;

/** Where a setting's value came from, for `runjob config`. */
export type SettingSource = "flag" | "env" | "config file" | "default";

export const SETTING_NAMES: readonly SettingName[] = ["server", "cert", "key", "ca"];

export const ENV_VARS: Record<SettingName, string> = {
  server: "RUNJOB_SERVER",
  cert: "RUNJOB_CERT",
  key: "RUNJOB_KEY",
  ca: "RUNJOB_CA",
};

/** Defaults: a local server and the dev PKI's `alice` (see `pnpm certs`), relative to the working directory. */
export const DEFAULTS: ConnectionSettings = {
  server: "localhost:8443",
  cert: "certs/alice.crt",
  key: "certs/alice.key",
  ca: "certs/ca.crt",
};

/**
 * Resolves each setting: flag, then RUNJOB_* environment variable, then
 * config.json in the CLI's config dir, then the default.
 */
export function resolveSettings(
  flags: Partial<Record<SettingName, string | undefined>>,
  env: NodeJS.ProcessEnv,
  configDir: string,
): { settings: ConnectionSettings; sources: Record<SettingName, SettingSource>; configFile: string } {
  const configFile = join(configDir, "config.json");
  const file = readConfigFile(configFile);
  const settings = { ...DEFAULTS };
  const sources = {} as Record<SettingName, SettingSource>;
  for (const name of SETTING_NAMES) {
    const candidates: [string | undefined, SettingSource][] = [
      [flags[name], "flag"],
      [env[ENV_VARS[name]], "env"],
      [file[name], "config file"],
    ];
    const [value, source] = candidates.find(([candidate]) => candidate) ?? [DEFAULTS[name], "default"];
    settings[name] = value ?? DEFAULTS[name];
    sources[name] = source;
  }
  return { settings, sources, configFile };
}

function readConfigFile(path: string): Partial<Record<SettingName, string>> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError("JW_ERR_CLI_CONFIG", `${path} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null) {
    throw new CliError("JW_ERR_CLI_CONFIG", `${path} must hold a JSON object`);
  }
  const result: Partial<Record<SettingName, string>> = {};
  for (const name of SETTING_NAMES) {
    const value = (parsed as Record<string, unknown>)[name];
    if (typeof value === "string") result[name] = value;
  }
  return result;
}
