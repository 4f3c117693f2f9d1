import type { ResourceUsage } from "./cgroups/controller.js";
import type { EndReason, JobState, StopCause } from "./job-state.js";
import type { Limits } from "./limits.js";

/** Everything known about a job. Persisted as the job's record; returned (as a copy) by JobManager. */
export interface Job {
  /** Lowercase canonical UUID. */
  id: string;
  /** Opaque owner string: the server uses the caller's identity. */
  owner: string;
  /** The command as requested. */
  command: string;
  /** The absolute path it resolved to. */
  executable: string;
  args: string[];
  /** Working directory inside the job. */
  workingDirectory: string;
  /** Limits as applied (defaults filled in). */
  limits: Limits;
  maxRuntimeMs?: number;
  state: JobState;
  endReason?: EndReason;
  exitCode?: number;
  signal?: number;
  oomKilled: boolean;
  /** Epoch milliseconds. */
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  usage?: ResourceUsage;
  /** Bytes of output so far; final once ended. */
  outputBytes: number;
  endDetail?: string;
  /** The transient uid (and gid) the job runs as. */
  uid: number;
  /** The job's outer launcher, with its start time, so a reused pid is never mistaken for it. */
  launcher?: { pid: number; startTime: string };
  /** Set when jobworker asked the job to stop: decides the end reason. */
  stopCause?: StopCause;
}

/** Which jobs a call may touch: one owner's, or everyone's (an admin). */
export type JobScope = { owner: string } | { allOwners: true };

/** True when the scope lets its holder see the job. */
export function inScope(job: Pick<Job, "owner">, scope: JobScope): boolean {
  return "allOwners" in scope || job.owner === scope.owner;
}

/** A job's start request. */
export interface StartRequest {
  /** Absolute path, or a bare name resolved against DEFAULT_PATH. */
  command: string;
  args?: string[];
  /** The job's environment. PATH, HOME and TMPDIR get defaults when absent. */
  env?: Record<string, string>;
  /** Working directory inside the job; default its private, writable directory. */
  workingDirectory?: string;
  limits?: Limits;
  maxRuntimeMs?: number;
}
