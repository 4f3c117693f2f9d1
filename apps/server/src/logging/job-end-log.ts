import { constants } from "node:os";
import type { Job, TransitionListener } from "@jobworker/core";
import type { Logger } from "pino";

/**
 * A transition listener that logs one line per job end, whoever or whatever
 * ended it (the program exiting, a stop, a limit, or, found at start-up, an
 * end while no server ran): what operators grep for when a user asks what
 * happened to their job.
 */
export function jobEndLogger(logger: Logger): TransitionListener {
  return (job) => {
    if (job.state !== "ended") return;
    logger.info(jobEndFields(job), `job ended: ${job.id} of ${job.owner}, ${endSummary(job)}`);
  };
}

/** The fields of a job-end line: who, what, how it ended, how long it ran and what it used. */
export function jobEndFields(job: Readonly<Job>): Record<string, unknown> {
  const durationMs = job.endedAt !== undefined ? job.endedAt - (job.startedAt ?? job.createdAt) : undefined;
  return {
    event: "job_end",
    job: job.id,
    owner: job.owner,
    // Names come with jobs that carry one; a job without prints none.
    ...("name" in job && job.name ? { name: job.name } : {}),
    command: job.command,
    endReason: job.endReason,
    exitCode: job.exitCode,
    signal: job.signal !== undefined ? signalName(job.signal) : undefined,
    oomKilled: job.oomKilled,
    endDetail: job.endDetail,
    startedAt: job.startedAt !== undefined ? new Date(job.startedAt).toISOString() : undefined,
    endedAt: job.endedAt !== undefined ? new Date(job.endedAt).toISOString() : undefined,
    durationMs,
    cpuTimeMs: job.usage ? Math.round(job.usage.cpuTimeMicros / 1000) : undefined,
    memoryPeakBytes: job.usage?.memoryPeakBytes,
    ioReadBytes: job.usage?.ioReadBytes,
    ioWriteBytes: job.usage?.ioWriteBytes,
    outputBytes: job.outputBytes,
  };
}

function endSummary(job: Readonly<Job>): string {
  const how =
    job.exitCode !== undefined
      ? `exit ${job.exitCode}`
      : job.signal !== undefined
        ? `killed by ${signalName(job.signal)}`
        : "no status";
  return `${job.endReason ?? "ended"} (${how})`;
}

/** SIGKILL for 9: the name operators know. */
function signalName(signal: number): string {
  return Object.entries(constants.signals).find(([, number]) => number === signal)?.[0] ?? String(signal);
}
