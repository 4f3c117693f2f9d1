import { cpus } from "node:os";
import type { ExposedPath } from "@jobworker/helper";
import { defaultJobsCeiling, type JobsCeiling } from "./cgroups/host-headroom.js";
import type { CgroupLayout } from "./cgroups/layout.js";
import type { Limits } from "./limits.js";
import { DEFAULT_QUOTA, type OwnerQuota } from "./quota.js";

/** Configuration of a JobManager. Only `stateDir` is required. */
export interface JobManagerOptions {
  /** Where job records, output and work dirs live. Created 0700. Must not be under /tmp (jobs get their own /tmp). */
  stateDir: string;
  /** cgroup parent, relative to each hierarchy's root. Default "jobworker". */
  cgroupParent?: string;
  /** Override of the detected cgroup layout (for tests against a fake cgroupfs). */
  cgroupLayout?: CgroupLayout;
  /**
   * Transient uids/gids handed to jobs, one per running job. Default 200000, 65536 of them.
   * Must not hold 0, 2^32-1 or any of the host's users or groups.
   */
  uidRange?: { first: number; count: number };
  /**
   * Memory and processes of all jobs together, set on the jobs' parent cgroup
   * so that they cannot take the host down. Default: the host's memory less a
   * reserve (a tenth, at least 1 GiB), and three quarters of the kernel's task limit.
   */
  jobsCeiling?: JobsCeiling;
  /** Limits applied when a request leaves one out. */
  defaultLimits?: Limits;
  /** Highest limits a request may ask for; above is refused, never clamped. Default memory: the jobs' ceiling. */
  maxLimits?: Limits;
  /** Time between SIGTERM and SIGKILL when a stop names none. Default 10 s. */
  defaultGraceMs?: number;
  /** A job whose output passes this many bytes is stopped (output_limit). Default 1 GiB. */
  outputCapBytes?: number;
  /** Most jobs running at once; more is resource_exhausted. Default 1000. */
  maxConcurrentJobs?: number;
  /** Each owner's quota when `start` names none. Default none: `maxConcurrentJobs` bounds all. */
  defaultQuota?: OwnerQuota;
  /** Ended jobs older than this are deleted with their output. Default 7 days. */
  retentionMs?: number;
  /** Most ended jobs kept per owner; beyond it the oldest are deleted with their output. Default 1000. */
  maxEndedJobsPerOwner?: number;
  /** Longest grace a stop may ask for; longer is invalid_argument. Default 5 minutes. */
  maxGraceMs?: number;
  /**
   * Most bytes of output all kept jobs may hold in the state dir; past it new
   * jobs are refused (resource_exhausted) until jobs are deleted. Default half
   * the size of the state dir's filesystem.
   */
  maxOutputBytesTotal?: number;
  /**
   * Host paths every job sees at the same path, read-only unless `writable`
   * (beyond the system dirs: /usr, /bin, /sbin, /lib*, /etc, /opt). Each must
   * exist as its real path and stay clear of the state dir and of the job's own
   * /work, /tmp, /run, /dev, /proc and /sys. Default none.
   */
  exposedPaths?: ExposedPath[];
  /**
   * Most job events the manager keeps for watchers to resume from; a watcher
   * that falls further behind gets a fresh snapshot. Default 16384 (a few MiB).
   */
  eventLogSize?: number;
}

export type ResolvedOptions = Required<Omit<JobManagerOptions, "cgroupLayout" | "maxOutputBytesTotal">> &
  Pick<JobManagerOptions, "cgroupLayout" | "maxOutputBytesTotal">;

/** PATH used to resolve bare command names, and given to jobs that set none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Fills in every default. */
export function resolveOptions(options: JobManagerOptions): ResolvedOptions {
  const jobsCeiling = options.jobsCeiling ?? defaultJobsCeiling();
  return {
    jobsCeiling,
    stateDir: options.stateDir,
    cgroupParent: options.cgroupParent ?? "jobworker",
    cgroupLayout: options.cgroupLayout,
    uidRange: options.uidRange ?? { first: 200_000, count: 65_536 },
    // Every job has a disk limit: its writable space is a tmpfs of that size.
    defaultLimits: {
      diskBytes: 2 ** 30,
      ...(options.defaultLimits ?? { cpuMillicores: 1000, memoryBytes: 512 * 2 ** 20, maxPids: 1024 }),
    },
    maxLimits: options.maxLimits ?? {
      cpuMillicores: cpus().length * 1000,
      memoryBytes: jobsCeiling.memoryBytes,
      maxPids: 32_768,
      diskBytes: 16 * 2 ** 30,
    },
    defaultGraceMs: options.defaultGraceMs ?? 10_000,
    outputCapBytes: options.outputCapBytes ?? 2 ** 30,
    maxConcurrentJobs: options.maxConcurrentJobs ?? 1000,
    exposedPaths: options.exposedPaths ?? [],
    defaultQuota: options.defaultQuota ?? DEFAULT_QUOTA,
    retentionMs: options.retentionMs ?? 7 * 24 * 3600 * 1000,
    maxEndedJobsPerOwner: options.maxEndedJobsPerOwner ?? 1000,
    maxGraceMs: options.maxGraceMs ?? 5 * 60 * 1000,
    maxOutputBytesTotal: options.maxOutputBytesTotal,
    eventLogSize: options.eventLogSize ?? 16_384,
  };
}
