import type { Job } from "@jobworker/proto";
import { CliError } from "./cli-error.js";

/** The job a response carries; every RPC that answers with a job sends one, so its absence is a server fault. */
export function jobOf(response: { job?: Job }): Job {
  if (!response.job) throw new CliError("JW_ERR_UNKNOWN", "the server returned no job");
  return response.job;
}
