import type { OwnerQuota } from "./quota.js";

/** Options of `JobManager.start`. */
export interface StartOptions {
  /** The owner's quota of active jobs and starts. Default: the manager's `defaultQuota`. */
  quota?: OwnerQuota;
  /**
   * Gives the start up. Aborted before the call, nothing is started; aborted
   * while the job launches, the job is killed as soon as it runs and deleted.
   * Either way the start rejects with the signal's reason.
   */
  signal?: AbortSignal;
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
