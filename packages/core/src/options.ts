import { cpus, totalmem } from "node:os";
import type { CgroupLayout } from "./cgroups/layout.js";
import type { Limits } from "./limits.js";

/** Configuration of a JobManager. Only `stateDir` is required. */
export interface JobManagerOptions {
  /** Where job records, output and work dirs live. Created 0700. Must not be under /tmp (jobs get their own /tmp). */
  stateDir: string;
  /** cgroup parent, relative to each hierarchy's root. Default "jobworker". */
  cgroupParent?: string;
  /** Override of the detected cgroup layout (for tests against a fake cgroupfs). */
  cgroupLayout?: CgroupLayout;
  /** Transient uids/gids handed to jobs, one per running job. Default 200000, 65536 of them. */
  uidRange?: { first: number; count: number };
  /** Limits applied when a request leaves one out. */
  defaultLimits?: Limits;
  /** Highest limits a request may ask for; above is refused, never clamped. */
  maxLimits?: Limits;
  /** Time between SIGTERM and SIGKILL when a stop names none. Default 10 s. */
  defaultGraceMs?: number;
  /** A job whose output passes this many bytes is stopped (output_limit). Default 1 GiB. */
  outputCapBytes?: number;
  /** Most jobs running at once; more is resource_exhausted. Default 1000. */
  maxConcurrentJobs?: number;
  /** Size cap of each job's private /tmp. Default 64 MiB. */
  tmpSizeBytes?: number;
}

export type ResolvedOptions = Required<Omit<JobManagerOptions, "cgroupLayout">> &
  Pick<JobManagerOptions, "cgroupLayout">;

/** PATH used to resolve bare command names, and given to jobs that set none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Fills in every default. */
export function resolveOptions(options: JobManagerOptions): ResolvedOptions {
  return {
    stateDir: options.stateDir,
    cgroupParent: options.cgroupParent ?? "jobworker",
    cgroupLayout: options.cgroupLayout,
    uidRange: options.uidRange ?? { first: 200_000, count: 65_536 },
    defaultLimits: options.defaultLimits ?? { cpuMillicores: 1000, memoryBytes: 512 * 2 ** 20, maxPids: 1024 },
    maxLimits: options.maxLimits ?? {
      cpuMillicores: cpus().length * 1000,
      memoryBytes: totalmem(),
      maxPids: 32_768,
    },
    defaultGraceMs: options.defaultGraceMs ?? 10_000,
    outputCapBytes: options.outputCapBytes ?? 2 ** 30,
    maxConcurrentJobs: options.maxConcurrentJobs ?? 1000,
    tmpSizeBytes: options.tmpSizeBytes ?? 64 * 2 ** 20,
  };
}
