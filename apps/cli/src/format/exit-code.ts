import { EndReason, type Job } from "@jobworker/proto";
import { CLI_FAILURE_EXIT } from "../cli-error.js";

/** Exit code for a job that ran into its max runtime, as timeout(1). */
export const TIMED_OUT_EXIT = 124;

/**
 * The exit code that mirrors how a job ended, as `docker run` does: its own
 * code when it exited, 128+signal when a signal ended it, 124 on timeout,
 * and the CLI-failure code 125 when the job was lost.
 */
export function exitCodeOf(job: Job): number {
  if (job.endReason === EndReason.TIMED_OUT) return TIMED_OUT_EXIT;
  if (job.endReason === EndReason.LOST) return CLI_FAILURE_EXIT;
  if (job.signal !== undefined) return 128 + job.signal;
  return job.exitCode ?? CLI_FAILURE_EXIT;
}
