import type { Hook } from "@oclif/core";
import { CLI_FAILURE_EXIT } from "./cli-error.js";
import { editDistance, nearestName } from "./config/nearest-name.js";

/**
 * The line for a command runjob does not have, with the nearest one it does.
 * oclif joins every word into one id ("stauts:abc123"), so each run of
 * leading words is tried, and the closest match wins.
 */
export function unknownCommandLine(id: string, commandIds: readonly string[]): string {
  const words = id.split(":");
  const typed = (ids: string) => ids.replaceAll(":", " ");
  let best: { prefix: string; nearest: string; distance: number } | undefined;
  for (let length = 1; length <= words.length; length++) {
    const prefix = words.slice(0, length).join(":");
    const nearest = nearestName(prefix, commandIds);
    const distance = nearest === undefined ? Number.POSITIVE_INFINITY : editDistance(prefix, nearest);
    if (nearest !== undefined && distance < (best?.distance ?? Number.POSITIVE_INFINITY))
      best = { prefix, nearest, distance };
  }
  if (best) {
    return `runjob: unknown command '${typed(best.prefix)}' (did you mean 'runjob ${typed(best.nearest)}'?); 'runjob help' lists the commands [JW_ERR_USAGE]`;
  }
  return `runjob: unknown command '${typed(words[0] ?? id)}'; 'runjob help' lists the commands [JW_ERR_USAGE]`;
}

/** oclif's command_not_found hook (package.json "hooks"): one line on stderr and exit 125, like every other failure. */
export const commandNotFound: Hook.CommandNotFound = async ({ id, config }) => {
  const visible = config.commands.filter((command) => !command.hidden).flatMap((command) => [command.id]);
  process.stderr.write(`${unknownCommandLine(id, visible)}\n`);
  process.exit(CLI_FAILURE_EXIT);
};
