import type { Limits } from "../limits.js";

/** What a job used, read from its cgroup. */
export interface ResourceUsage {
  /** CPU time, user and system, of every process of the job. */
  cpuTimeMicros: number;
  /** Most memory the job's cgroup held at once. */
  memoryPeakBytes: number;
  /** Bytes read from block devices (not from the page cache). */
  ioReadBytes: number;
  /** Bytes written to block devices. */
  ioWriteBytes: number;
}

/** What a running job holds right now, read from its cgroup. */
export interface CurrentUsage {
  /** Memory the cgroup holds now (page cache and tmpfs included). */
  memoryCurrentBytes: number;
  /** Processes and threads in the cgroup now. */
  pidsCurrent: number;
}

/** A cgroup control file's path, and the value written into it. */
export type CgroupWrite = readonly [file: string, value: string];

/**
 * The limit and accounting side of a job's cgroup, one implementation per
 * cgroup version (v1-controller.ts, v2-controller.ts).
 */
export interface LimitController {
  /** Writes the limits. `disk` is the "major:minor" IO limits apply to. */
  apply(limits: Limits, disk: string | undefined): Promise<void>;
  /**
   * The writes that set the limits, in order, for whoever creates the cgroup
   * (a job's launcher). For a job's cgroup nothing is read: what varies by host
   * was settled once for its parent.
   */
  writes(limits: Limits, disk: string | undefined): Promise<CgroupWrite[]>;
  usage(): Promise<ResourceUsage>;
  /** What the job holds now: memory and pids (meaningful only while it runs). */
  current(): Promise<CurrentUsage>;
  /** How many processes the kernel's OOM killer killed in the job's cgroup. */
  oomKills(): Promise<number>;
  /** The files `usageIn` and `oomKillsIn` read: what a job's launcher reads into its exit record. */
  endFiles(): string[];
  /** `usage`, from files read already (by the job's launcher). */
  usageIn(read: ControlReader): ResourceUsage;
  /** `oomKills`, from files read already. */
  oomKillsIn(read: ControlReader): number;
}

/** A control file's contents by its path; undefined when it is not there. */
export type ControlReader = (file: string) => string | undefined;
