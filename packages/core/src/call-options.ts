import type { OwnerQuota } from "./quota.js";

/** Options of `JobManager.start`. */
export interface StartOptions {
  /** The owner's quota of active jobs and starts. Default: the manager's `defaultQuota`. */
  quota?: OwnerQuota;
}

/** Options of a call that waits: aborting `signal` rejects the call with the signal's reason. */
export interface WaitOptions {
  /** Gives up waiting when it aborts. What the call set going (a stop, say) carries on. */
  signal?: AbortSignal;
}

/** Options of `JobManager.stop`. */
export interface StopOptions extends WaitOptions {
  /** Time between SIGTERM and SIGKILL to the job's whole tree. Default: the manager's `defaultGraceMs` (10 s). */
  graceMs?: number;
}
