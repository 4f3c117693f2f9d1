import type { ExitRecord } from "@jobworker/helper";
import type { EndReason, StopCause } from "../job-state.js";

const SIGKILL = 9;

/** How a job ended, ready to be merged into its record. */
export interface Outcome {
  endReason: EndReason;
  exitCode?: number;
  signal?: number;
  oomKilled: boolean;
  endDetail?: string;
}

/**
 * Decides how a job ended from the launcher's exit record, whether jobworker
 * asked it to stop, and the cgroup's OOM-kill counter. The counter is
 * cross-checked against SIGKILL: a job whose child was OOM-killed but whose
 * main process exited normally ended by exiting (with oomKilled still true).
 */
export function decideOutcome(
  exit: ExitRecord | undefined,
  stopCause: StopCause | undefined,
  oomKills: number,
): Outcome {
  const oomKilled = oomKills > 0;
  if (!exit) {
    return { endReason: "lost", oomKilled, endDetail: "the job's launcher exited without leaving an exit record" };
  }
  const status = exit.kind === "exited" ? { exitCode: exit.exitCode } : { signal: exit.signal };
  if (stopCause) return { endReason: stopCause, ...status, oomKilled };
  if (exit.kind === "exited") return { endReason: "exited", ...status, oomKilled };
  if (oomKilled && exit.signal === SIGKILL) return { endReason: "oom_killed", ...status, oomKilled };
  return { endReason: "signaled", ...status, oomKilled };
}
