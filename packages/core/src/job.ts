import type { ResourceUsage } from "./cgroups/controller.js";
import type { EndReason, JobState, StopCause } from "./job-state.js";
import { type LabelSelector, selects } from "./labels/label-selector.js";
import type { Limits } from "./limits.js";

/** A terminal's window size, in character cells (1 to 65535 each). */
export interface TerminalSize {
  /** Lines of the window. */
  rows: number;
  /** Columns of the window. */
  columns: number;
}

/** Everything known about a job. Persisted as the job's record; returned (as a copy) by JobManager. */
export interface Job {
  /** Lowercase canonical UUID. */
  id: string;
  /** Opaque owner string: the server uses the caller's identity. */
  owner: string;
  /** The name its owner gave it, unique among that owner's jobs. */
  name?: string;
  /** Key/value labels (Kubernetes' syntax) that selectors pick jobs by. */
  labels?: Readonly<Record<string, string>>;
  /** The command as requested. */
  command: string;
  /** The absolute path it resolved to. */
  executable: string;
  /** Arguments after the command (argv[1] onwards). */
  args: string[];
  /** Working directory inside the job. */
  workingDirectory: string;
  /** Limits as applied (defaults filled in). */
  limits: Limits;
  /** The job is stopped (`timed_out`) once it has run this long. */
  maxRuntimeMs?: number;
  /** Where the job is in its life. */
  state: JobState;
  /** How it ended, once `state` is `ended`. */
  endReason?: EndReason;
  /** The main process's exit code, when it exited. */
  exitCode?: number;
  /** The signal that killed the main process, when one did. */
  signal?: number;
  /** The kernel's OOM killer killed a process of the job. */
  oomKilled: boolean;
  /** Epoch milliseconds. */
  createdAt: number;
  /** When its program started running, in epoch milliseconds. */
  startedAt?: number;
  /** When it ended, in epoch milliseconds. */
  endedAt?: number;
  /** What it used, once it has ended. */
  usage?: ResourceUsage;
  /** Bytes of output so far; final once ended. */
  outputBytes: number;
  /** Why the end reason is what it is, in words, when there is more to say (a lost job). */
  endDetail?: string;
  /** The transient uid (and gid) the job runs as. */
  uid: number;
  /** The job's outer launcher, with its start time, so a reused pid is never mistaken for it. */
  launcher?: { pid: number; startTime: string };
  /** Set when jobworker asked the job to stop: decides the end reason. */
  stopCause?: StopCause;
  /** The job has a stdin to write to (`JobManager.openInput`); without it, it reads /dev/null. */
  stdin?: boolean;
  /** The job has a terminal of its own as stdin, stdout and stderr. */
  tty?: boolean;
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
  /** Arguments after the command. Default none. */
  args?: string[];
  /** The job's environment. PATH, HOME and TMPDIR get defaults when absent. */
  env?: Record<string, string>;
  /** Working directory inside the job; default its private, writable directory. */
  workingDirectory?: string;
  /** Limits; each one left out takes the manager's `defaultLimits`. */
  limits?: Limits;
  /** Stop the job (SIGTERM, then SIGKILL after the default grace) once it has run this long. Default: no limit. */
  maxRuntimeMs?: number;
  /** A name unique among the owner's jobs (`already_exists` otherwise): 1-63 letters, digits, "_", "." or "-". */
  name?: string;
  /** Labels, validated as Kubernetes validates them. */
  labels?: Record<string, string>;
  /** Give the job a stdin to write to through `JobManager.openInput`. Default: it reads /dev/null. */
  stdin?: boolean;
  /**
   * Give the job a terminal (from its own devpts) as stdin, stdout and stderr;
   * its output is what the terminal shows. Implies `stdin`.
   */
  tty?: boolean;
  /** The terminal's first window size. Default 24 rows, 80 columns. */
  terminalSize?: TerminalSize;
}

/** What `list`, `watch` and `clean` select jobs by, besides the scope. */
export interface JobFilter {
  /** Only jobs in this state. */
  state?: JobState;
  /** Only this owner's jobs. */
  owner?: string;
  /** Only jobs whose labels meet every requirement. */
  labels?: LabelSelector;
}

/** True when the job passes every part of the filter. */
export function matchesFilter(job: Pick<Job, "state" | "owner" | "labels">, filter: JobFilter): boolean {
  return (
    (!filter.state || job.state === filter.state) &&
    (!filter.owner || job.owner === filter.owner) &&
    (!filter.labels || selects(filter.labels, job.labels))
  );
}
