import { CliError } from "../cli-error.js";
import {
  type ConfigFile,
  configFilePath,
  readConfigFile,
  SETTING_KEYS,
  type SettingKey,
} from "../config/config-file.js";
import { didYouMean } from "../config/nearest-name.js";

/** How the CLI reaches the server. */
export type ConnectionSettings = Record<SettingKey, string>;

export type SettingName = SettingKey;

/** Where a setting's value came from, for `runjob config`. */
export type SettingSource = "flag" | "env" | "context" | "config file" | "default";

export const SETTING_NAMES: readonly SettingName[] = SETTING_KEYS;

export const ENV_VARS: Record<SettingName, string> = {
  server: "RUNJOB_SERVER",
  cert: "RUNJOB_CERT",
  key: "RUNJOB_KEY",
  ca: "RUNJOB_CA",
};

/** The environment variable that picks a context, as --context does. */
export const CONTEXT_ENV_VAR = "RUNJOB_CONTEXT";

/** Defaults: a local server and the dev PKI's `alice` (see `pnpm certs`), relative to the working directory. */
export const DEFAULTS: ConnectionSettings = {
  server: "localhost:8443",
  cert: "certs/alice.crt",
  key: "certs/alice.key",
  ca: "certs/ca.crt",
};

/** The settings in effect, where each came from, and the context they were read from, if any. */
export interface ResolvedSettings {
  settings: ConnectionSettings;
  sources: Record<SettingName, SettingSource>;
  configFile: string;
  context?: string;
}

/**
 * Resolves each setting: flag, then RUNJOB_* environment variable, then the
 * context in use (--context, else RUNJOB_CONTEXT, else the config file's
 * currentContext), then config.json's top level, then the default.
 */
export function resolveSettings(
  flags: Partial<Record<SettingName, string | undefined>> & { context?: string },
  env: NodeJS.ProcessEnv,
  configDir: string,
): ResolvedSettings {
  const configFile = configFilePath(configDir);
  const file = readConfigFile(configFile);
  const context = flags.context ?? (env[CONTEXT_ENV_VAR] || undefined) ?? file.currentContext;
  const fromContext = context === undefined ? {} : contextSettings(file, context, configFile, flags.context, env);
  const settings = { ...DEFAULTS };
  const sources = {} as Record<SettingName, SettingSource>;
  for (const name of SETTING_NAMES) {
    const candidates: [string | undefined, SettingSource][] = [
      [flags[name], "flag"],
      [env[ENV_VARS[name]], "env"],
      [fromContext[name], "context"],
      [file.settings[name], "config file"],
    ];
    const [value, source] = candidates.find(([candidate]) => candidate) ?? [DEFAULTS[name], "default"];
    settings[name] = value ?? DEFAULTS[name];
    sources[name] = source;
  }
  return { settings, sources, configFile, ...(context === undefined ? {} : { context }) };
}

function contextSettings(
  file: ConfigFile,
  name: string,
  configFile: string,
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): Partial<ConnectionSettings> {
  const context = file.contexts[name];
  if (context) return context;
  const chosenBy =
    flag !== undefined ? "--context" : env[CONTEXT_ENV_VAR] ? CONTEXT_ENV_VAR : `currentContext in ${configFile}`;
  const known = Object.keys(file.contexts);
  throw new CliError(
    "JW_ERR_CLI_CONFIG",
    `no context named "${name}" (from ${chosenBy})${didYouMean(name, known, (n) => `"${n}"`)}; ` +
      (known.length > 0
        ? `known contexts: ${known.join(", ")} ('runjob context ls')`
        : "add one with 'runjob context add NAME --server HOST:PORT --cert F --key F --ca F'"),
  );
}
