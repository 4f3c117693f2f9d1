import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import { invalidArgument } from "./errors.js";
import { DEFAULT_PATH } from "./options.js";

/**
 * Resolves a command to an absolute executable path, as execvp would with
 * DEFAULT_PATH. Relative paths with a slash are refused: a job has no
 * meaningful cwd to resolve them against before it starts.
 */
export async function resolveCommand(command: string): Promise<string> {
  if (command.startsWith("/")) return command;
  if (command.includes("/")) {
    throw invalidArgument(`command ${JSON.stringify(command)} must be an absolute path or a bare name`);
  }
  for (const dir of DEFAULT_PATH.split(":")) {
    const candidate = join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  throw invalidArgument(`command ${JSON.stringify(command)} not found in PATH (${DEFAULT_PATH})`);
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, constants.X_OK);
    return (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
