import { isJobId, type Job } from "@jobworker/proto";
import { CliError } from "./cli-error.js";
import type { JobClient } from "./connection/client.js";
import { listAllJobs } from "./list-all.js";

/** Shortest id prefix accepted, as docker's. */
export const MIN_PREFIX = 6;

/** How a command's argument names a job: its id, its name, or a unique id prefix of at least 6 characters. */
export const JOB_REF_DESCRIPTION = "job id, name, or a unique id prefix of at least 6 characters";

/**
 * The id of the job `ref` names, as docker resolves a container: a full id
 * (passed through without asking the server), else an exact name of one of
 * the caller's jobs, else a unique id prefix of at least 6 hex characters.
 */
export async function resolveJobId(client: JobClient, ref: string): Promise<string> {
  const wanted = ref.toLowerCase();
  if (isJobId(wanted)) return wanted;
  return matchJobRef(await listAllJobs(client), ref);
}

/** The id `ref` (a name or an id prefix) names among `jobs`; a full id is passed through. */
export function matchJobRef(jobs: readonly Job[], ref: string): string {
  const wanted = ref.toLowerCase();
  if (isJobId(wanted)) return wanted;
  const named = jobs.filter((job) => job.name !== "" && job.name === ref);
  // An admin sees every owner's jobs, and names are unique per owner only.
  if (named.length === 1 && named[0]) return named[0].id;
  if (named.length > 1) {
    throw new CliError(
      "JW_ERR_AMBIGUOUS_ID",
      `job name ${ref} is taken by several owners' jobs: ${named.map((job) => `${job.id} (${job.owner})`).join(", ")}; use an id`,
    );
  }
  if (wanted.length < MIN_PREFIX || !/^[0-9a-f-]+$/.test(wanted)) {
    throw new CliError(
      "JW_ERR_NOT_FOUND",
      `no job is named ${JSON.stringify(ref)}, and it is not an id prefix of at least ${MIN_PREFIX} hex characters (see 'runjob list')`,
    );
  }
  const matches = jobs.filter((job: Job) => job.id.startsWith(wanted));
  if (matches.length === 1 && matches[0]) return matches[0].id;
  if (matches.length === 0)
    throw new CliError(
      "JW_ERR_NOT_FOUND",
      `no job is named ${wanted} or has an id starting with it (see 'runjob list')`,
    );
  throw new CliError(
    "JW_ERR_AMBIGUOUS_ID",
    `job id prefix ${wanted} is ambiguous; it matches ${matches.map((job: Job) => job.id).join(", ")}`,
  );
}
