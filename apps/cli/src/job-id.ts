import type { Job } from "@jobworker/proto";
import { CliError } from "./cli-error.js";
import type { JobClient } from "./connection/client.js";

const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const MIN_PREFIX = 6;

/** Expands a unique id prefix (at least 6 characters) to the full job id, as docker does. */
export async function resolveJobId(client: JobClient, idOrPrefix: string): Promise<string> {
  const wanted = idOrPrefix.toLowerCase();
  if (FULL_ID.test(wanted)) return wanted;
  if (wanted.length < MIN_PREFIX || !/^[0-9a-f-]+$/.test(wanted)) {
    throw new CliError(
      `job id ${JSON.stringify(idOrPrefix)} is neither a full id nor a prefix of at least ${MIN_PREFIX} hex characters`,
    );
  }
  const { jobs } = await client.listJobs({});
  const matches = jobs.filter((job: Job) => job.id.startsWith(wanted));
  if (matches.length === 1 && matches[0]) return matches[0].id;
  if (matches.length === 0) throw new CliError(`no job id starts with ${wanted} (see 'runjob list')`);
  throw new CliError(
    `job id prefix ${wanted} is ambiguous; it matches ${matches.map((job: Job) => job.id).join(", ")}`,
  );
}
