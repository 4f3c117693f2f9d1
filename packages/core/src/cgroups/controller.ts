import type { Limits } from "../limits.js";

/** What a job used, read from its cgroup. */
export interface ResourceUsage {
  cpuTimeMicros: number;
  memoryPeakBytes: number;
  ioReadBytes: number;
  ioWriteBytes: number;
}

/**
 * The limit and accounting side of a job's cgroup, one implementation per
 * cgroup version (v1-controller.ts, v2-controller.ts).
 */
export interface LimitController {
  /** Writes the limits. `disk` is the "major:minor" IO limits apply to. */
  apply(limits: Limits, disk: string | undefined): Promise<void>;
  usage(): Promise<ResourceUsage>;
  /** How many processes the kernel's OOM killer killed in the job's cgroup. */
  oomKills(): Promise<number>;
}
