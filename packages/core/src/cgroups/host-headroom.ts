import { readFileSync } from "node:fs";
import { totalmem } from "node:os";

/**
 * What every job together may take of the host, so that the host keeps room
 * for itself: the jobs' parent cgroup gets these limits, and the largest
 * limit a single job may ask for defaults to them too.
 */
export interface JobsCeiling {
  /** Memory of all jobs together. */
  memoryBytes: number;
  /** Processes and threads of all jobs together. */
  maxPids: number;
}

const GiB = 2 ** 30;

/** Memory the host keeps for itself: a tenth of it, at least 1 GiB (and never more than half). */
export function reservedMemory(total = totalmem()): number {
  return Math.min(Math.floor(total / 2), Math.max(GiB, Math.floor(total / 10)));
}

/** The default ceiling: the host's memory less its reserve, three quarters of the kernel's task limit. */
export function defaultJobsCeiling(): JobsCeiling {
  const total = totalmem();
  const pidMax = readNumber("/proc/sys/kernel/pid_max") ?? 32_768;
  const threadsMax = readNumber("/proc/sys/kernel/threads-max") ?? pidMax;
  return { memoryBytes: total - reservedMemory(total), maxPids: Math.floor(Math.min(pidMax, threadsMax) * 0.75) };
}

function readNumber(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}
