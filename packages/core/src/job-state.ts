/**
 * The job state machine, defined once. Everything else asks this module
 * whether a transition is allowed.
 *
 *   starting -> running -> stopping -> ended
 *          \          \_______________/^
 *           \_____________________________/   (a failed start, or a job that ends by itself)
 */

/** Every state a job can be in, in lifecycle order. */
export const JOB_STATES = ["starting", "running", "stopping", "ended"] as const;

/** One of JOB_STATES. */
export type JobState = (typeof JOB_STATES)[number];

/** How a job ended. */
export type EndReason = "exited" | "signaled" | "stopped" | "oom_killed" | "timed_out" | "output_limit" | "lost";

/** Why jobworker itself stopped a job: each maps to the end reason of the same name. */
export type StopCause = "stopped" | "timed_out" | "output_limit";

const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  starting: ["running", "ended"],
  running: ["stopping", "ended"],
  stopping: ["ended"],
  ended: [],
};

/** True when a job in state `from` may move to state `to`. */
export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws when the transition is not in the state machine: a bug, never a user error. */
export function assertTransition(from: JobState, to: JobState): void {
  if (!canTransition(from, to)) throw new Error(`invalid job state transition ${from} -> ${to}`);
}

/** True while the job's processes may exist. */
export function isActive(state: JobState): boolean {
  return state !== "ended";
}
