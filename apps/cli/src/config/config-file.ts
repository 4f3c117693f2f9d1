import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CliError } from "../cli-error.js";
import { didYouMean } from "./nearest-name.js";

/** The connection settings a context (or the file's top level) may set. */
export const SETTING_KEYS = ["server", "cert", "key", "ca"] as const;

export type SettingKey = (typeof SETTING_KEYS)[number];

/** A named server with the credentials to reach it, as `runjob context add` stores it (paths absolute). */
export type Context = Record<SettingKey, string>;

/** What config.json holds: settings for every call, named contexts, and the one in use. */
export interface ConfigFile {
  settings: Partial<Record<SettingKey, string>>;
  contexts: Record<string, Context>;
  currentContext?: string;
}

const TOP_LEVEL_KEYS = [...SETTING_KEYS, "currentContext", "contexts"] as const;

/** runjob's config file in oclif's config dir (~/.config/runjob, or $XDG_CONFIG_HOME/runjob, or $RUNJOB_CONFIG_DIR). */
export function configFilePath(configDir: string): string {
  return join(configDir, "config.json");
}

/**
 * Reads and checks config.json; a missing file is an empty config. Every
 * problem names the file and the line, and an unknown key the known key
 * nearest to it, so a typo cannot pass unnoticed.
 */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { settings: {}, contexts: {} };
    throw new CliError(
      "JW_ERR_CLI_CONFIG",
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code}): fix its permissions or remove it`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const { line, column } = syntaxErrorPlace(text, (error as Error).message);
    throw new CliError(
      "JW_ERR_CLI_CONFIG",
      `${path}:${line}:${column}: not valid JSON (${jsonReason((error as Error).message)}): fix it, or remove the file and run 'runjob context add'`,
    );
  }
  return checkConfig(path, text, parsed);
}

/** Writes config.json atomically (a reader never sees half a file), mode 0600 like the keys it points at. */
export function writeConfigFile(path: string, config: ConfigFile): void {
  const body: Record<string, unknown> = { ...config.settings };
  if (config.currentContext !== undefined) body.currentContext = config.currentContext;
  body.contexts = config.contexts;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

function checkConfig(path: string, text: string, parsed: unknown): ConfigFile {
  const fail = (line: number, what: string) => new CliError("JW_ERR_CLI_CONFIG", `${path}:${line}: ${what}`);
  if (!isObject(parsed)) throw fail(1, 'must hold a JSON object, such as {"currentContext": "local", "contexts": {}}');
  const config: ConfigFile = { settings: {}, contexts: {} };
  for (const [key, value] of Object.entries(parsed)) {
    const line = keyLine(text, key);
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      throw fail(
        line,
        `unknown key "${key}"${didYouMean(key, TOP_LEVEL_KEYS, quoteJson)}; known keys: ${TOP_LEVEL_KEYS.join(", ")}`,
      );
    }
    if (key === "contexts") {
      if (!isObject(value)) throw fail(line, `"contexts" must be an object of named contexts`);
      for (const [name, context] of Object.entries(value)) {
        config.contexts[name] = checkContext(text, name, context, fail);
      }
    } else if (typeof value !== "string") {
      throw fail(line, `"${key}" must be a string`);
    } else if (key === "currentContext") {
      config.currentContext = value;
    } else {
      config.settings[key as SettingKey] = value;
    }
  }
  return config;
}

function checkContext(
  text: string,
  name: string,
  value: unknown,
  fail: (line: number, what: string) => CliError,
): Context {
  const start = text.indexOf(JSON.stringify(name), text.indexOf('"contexts"'));
  if (!isObject(value)) throw fail(keyLine(text, name), `context "${name}" must be an object`);
  for (const [key, setting] of Object.entries(value)) {
    const line = keyLine(text, key, start);
    if (!(SETTING_KEYS as readonly string[]).includes(key)) {
      throw fail(
        line,
        `unknown key "${key}" in context "${name}"${didYouMean(key, SETTING_KEYS, quoteJson)}; known keys: ${SETTING_KEYS.join(", ")}`,
      );
    }
    if (typeof setting !== "string") throw fail(line, `"${key}" of context "${name}" must be a string`);
  }
  const missing = SETTING_KEYS.filter((key) => typeof value[key] !== "string");
  if (missing.length > 0) {
    throw fail(
      keyLine(text, name),
      `context "${name}" lacks ${missing.join(", ")}: add it again with 'runjob context add ${name} --server HOST:PORT --cert F --key F --ca F'`,
    );
  }
  return Object.fromEntries(SETTING_KEYS.map((key) => [key, String(value[key])])) as Context;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function quoteJson(name: string): string {
  return `"${name}"`;
}

/** The 1-based line of the first `"key":` at or after `from` (1 if it cannot be found). */
function keyLine(text: string, key: string, from = 0): number {
  const pattern = new RegExp(`${escapeRegExp(JSON.stringify(key))}\\s*:`, "g");
  pattern.lastIndex = Math.max(0, from);
  const match = pattern.exec(text);
  return match ? lineOf(text, match.index) : 1;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Where JSON.parse stopped: V8 names a position (and sometimes line and column); at the end of input it names none. */
function syntaxErrorPlace(text: string, message: string): { line: number; column: number } {
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const position = /at position (\d+)/.exec(message);
  const index = position ? Number(position[1]) : text.trimEnd().length;
  const before = text.slice(0, index);
  return { line: before.split("\n").length, column: index - before.lastIndexOf("\n") };
}

/** V8's reason without the position it names, and without quoting the whole file back. */
function jsonReason(message: string): string {
  return message
    .replace(/,? ".*" is not valid JSON$/s, "")
    .replace(/ in JSON at position \d+( \(line \d+ column \d+\))?/, "")
    .trim();
}
