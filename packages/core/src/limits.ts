import { invalidArgument } from "./errors.js";

/** Resource limits of a job. Absent means "the default" in a request, "none" once applied. */
export interface Limits {
  /** CPU bandwidth in thousandths of a core. */
  cpuMillicores?: number;
  /** Hard memory limit in bytes, no swap. */
  memoryBytes?: number;
  /**
   * Disk reads in bytes per second, on the disk behind the job's working
   * directory. On cgroup v1 the IO limits throttle direct IO only: buffered
   * writeback is not attributed to the job. On v2 they throttle it too.
   */
  ioReadBps?: number;
  /** Disk writes in bytes per second (see `ioReadBps`). */
  ioWriteBps?: number;
  /** Disk read operations per second (see `ioReadBps`). */
  ioReadIops?: number;
  /** Disk write operations per second (see `ioReadBps`). */
  ioWriteIops?: number;
  /** Maximum processes and threads. */
  maxPids?: number;
  /** Disk space: the job's writable space (memory-backed, so also within memoryBytes) and its output. */
  diskBytes?: number;
}

/** The name of one limit. */
export type LimitName = keyof Limits;

/** Every limit's name, in a fixed order. */
export const LIMIT_NAMES: readonly LimitName[] = [
  "cpuMillicores",
  "memoryBytes",
  "ioReadBps",
  "ioWriteBps",
  "ioReadIops",
  "ioWriteIops",
  "maxPids",
  "diskBytes",
];

/** Smallest values the kernel (or a starting process) can live with. */
const MINIMUMS: Required<Limits> = {
  cpuMillicores: 10, // cfs_quota_us has a 1 ms floor on a 100 ms period
  memoryBytes: 4 * 1024 * 1024,
  ioReadBps: 4096,
  ioWriteBps: 4096,
  ioReadIops: 1,
  ioWriteIops: 1,
  maxPids: 1,
  diskBytes: 1024 * 1024,
};

/**
 * Fills a request's absent limits with defaults and checks every value against
 * the minimum and the configured maximum. Never clamps: out of range is an error.
 */
export function resolveLimits(requested: Limits, defaults: Limits, maxima: Limits): Limits {
  const applied: Limits = {};
  for (const name of LIMIT_NAMES) {
    const value = requested[name] ?? defaults[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < MINIMUMS[name]) {
      throw invalidArgument(`limit ${name} must be an integer of at least ${MINIMUMS[name]}, got ${value}`);
    }
    const maximum = maxima[name];
    if (maximum !== undefined && value > maximum) {
      throw invalidArgument(`limit ${name} of ${value} is above the server's maximum of ${maximum}`);
    }
    applied[name] = value;
  }
  return applied;
}

/** True when any disk IO limit is set. */
export function hasIoLimits(limits: Limits): boolean {
  return (
    limits.ioReadBps !== undefined ||
    limits.ioWriteBps !== undefined ||
    limits.ioReadIops !== undefined ||
    limits.ioWriteIops !== undefined
  );
}
