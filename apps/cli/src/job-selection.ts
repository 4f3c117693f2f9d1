import { isJobId, type Job } from "@jobworker/proto";
import { Flags } from "@oclif/core";
import { CliError } from "./cli-error.js";
import type { JobClient } from "./connection/client.js";
import { matchJobRef } from "./job-id.js";
import { listAllJobs } from "./list-all.js";

/** The `-l` flag of commands that act on jobs by label (stop, delete, kill, list, clean, events, stats). */
export const selectorFlag = Flags.string({
  char: "l",
  summary: "Label selector: key=value, key!=value, key or !key, joined by commas (all must hold).",
});

/**
 * The ids of the jobs that `refs` (ids, names or id prefixes) and `selector`
 * (a label selector, or undefined) name, each once, in the order given (then
 * the selector's, oldest first). Lists the caller's jobs at most once. Fails
 * with a usage error when neither names a job, so `stop` alone never means "all".
 */
export async function resolveJobIds(
  client: JobClient,
  refs: readonly string[],
  selector: string | undefined,
): Promise<string[]> {
  if (refs.length === 0 && selector === undefined) {
    throw new CliError("JW_ERR_USAGE", "name at least one job (id, name or id prefix), or select jobs with -l");
  }
  const needList = refs.some((ref) => !isJobId(ref.toLowerCase()));
  const all: readonly Job[] = needList ? await listAllJobs(client) : [];
  const ids = refs.map((ref) => matchJobRef(all, ref));
  if (selector !== undefined) {
    for (const job of await listAllJobs(client, { labelSelector: selector })) ids.push(job.id);
  }
  return [...new Set(ids)];
}
