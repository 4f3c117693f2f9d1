import { JobError } from "./errors.js";

/** What one owner may hold and do. The server picks one per caller (users and admins differ). */
export interface OwnerQuota {
  /** Most of the owner's jobs starting, running or stopping at once. Absent: no limit of its own. */
  maxActiveJobs?: number;
  /** Most starts per second, sustained; a burst of twice as many is allowed. Absent: no limit. */
  startsPerSecond?: number;
  /**
   * Most of the owner's ended jobs kept; past it the oldest are deleted with
   * their output. Absent: the manager's `maxEndedJobsPerOwner`.
   */
  maxEndedJobs?: number;
}

/**
 * The quota of an owner when neither `start` nor the manager's options name
 * one: none. A program that runs its own jobs is bounded by the manager's
 * `maxConcurrentJobs` alone; a server that shares the host gives each caller a
 * quota (jobworker-server does, per role).
 */
export const DEFAULT_QUOTA: OwnerQuota = {};

/** What the manager holds now, as a start's checks need it (kept up to date, see job-tally.ts). */
export interface HeldJobs {
  /** Jobs starting, running or stopping, of every owner. */
  active: number;
  /** The starting owner's active jobs. */
  ownerActive: number;
  /** Output bytes of the ended jobs kept. */
  endedOutputBytes: number;
}

/**
 * Refuses a start the server has no room for: past its most active jobs, past
 * the owner's quota, or with ended jobs' output already over the budget (a
 * running job's output is bounded by its own disk limit).
 */
export function assertRoom(
  held: HeldJobs,
  owner: string,
  quota: OwnerQuota,
  server: { maxActiveJobs: number; maxOutputBytes: number },
): void {
  if (held.active >= server.maxActiveJobs) {
    throw new JobError("resource_exhausted", `the server already runs its maximum of ${server.maxActiveJobs} jobs`);
  }
  assertActiveQuota(owner, held.ownerActive, quota);
  const output = held.endedOutputBytes;
  if (output >= server.maxOutputBytes) {
    throw new JobError(
      "resource_exhausted",
      `kept jobs hold ${output} bytes of output, the server's output budget of ${server.maxOutputBytes}: delete ended jobs (runjob clean) and retry`,
    );
  }
}

/** Refuses a start that would take an owner past its quota of active jobs. */
export function assertActiveQuota(owner: string, active: number, quota: OwnerQuota): void {
  if (quota.maxActiveJobs !== undefined && active >= quota.maxActiveJobs) {
    throw new JobError(
      "resource_exhausted",
      `${owner} already has ${active} active jobs, the per-owner quota (max active jobs ${quota.maxActiveJobs}): wait for some to end or stop them`,
    );
  }
}

/**
 * Start-rate limits, one token bucket per owner: `startsPerSecond` tokens a
 * second, up to twice that in store. `prune` drops idle owners' buckets, so
 * memory follows the number of busy owners.
 */
export class StartRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes one start from the owner's bucket, or refuses with resource_exhausted. */
  take(owner: string, quota: OwnerQuota): void {
    if (quota.startsPerSecond === undefined) return;
    const capacity = quota.startsPerSecond * 2;
    const now = this.now();
    const bucket = this.buckets.get(owner) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * quota.startsPerSecond);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.buckets.set(owner, bucket);
      throw new JobError(
        "resource_exhausted",
        `${owner} starts jobs faster than the per-owner quota (${quota.startsPerSecond} starts per second): slow down and retry`,
      );
    }
    bucket.tokens -= 1;
    this.buckets.set(owner, bucket);
  }

  /** Drops the buckets of owners idle for a minute: theirs would be full again by now. */
  prune(): void {
    const now = this.now();
    for (const [owner, bucket] of this.buckets) if (now - bucket.at > 60_000) this.buckets.delete(owner);
  }
}
