import { isJobId, type Job } from "@jobworker/proto";
import { CliError } from "./cli-error.js";
import type { JobClient } from "./connection/client.js";
import { listAllJobs } from "./list-all.js";

/** Shortest id prefix accepted, as docker's. */
export const MIN_PREFIX = 6;

/** Expands a unique id prefix (at least 6 characters) to the full job id, as docker does. */
export async function resolveJobId(client: JobClient, idOrPrefix: string): Promise<string> {
  const wanted = idOrPrefix.toLowerCase();
  if (isJobId(wanted)) return wanted;
  if (wanted.length < MIN_PREFIX || !/^[0-9a-f-]+$/.test(wanted)) {
    throw new CliError(
      "JW_ERR_USAGE",
      `job id ${JSON.stringify(idOrPrefix)} is neither a full id nor a prefix of at least ${MIN_PREFIX} hex characters`,
    );
  }
  const jobs = await listAllJobs(client);
  const matches = jobs.filter((job: Job) => job.id.startsWith(wanted));
  if (matches.length === 1 && matches[0]) return matches[0].id;
  if (matches.length === 0)
    throw new CliError("JW_ERR_NOT_FOUND", `no job id starts with ${wanted} (see 'runjob list')`);
  throw new CliError(
    "JW_ERR_AMBIGUOUS_ID",
    `job id prefix ${wanted} is ambiguous; it matches ${matches.map((job: Job) => job.id).join(", ")}`,
  );
}
