import type { Job } from "./job.js";

/** How long ended jobs are kept, and how many per owner. */
export interface RetentionPolicy {
  retentionMs: number;
  maxEndedJobs: number;
}

/**
 * Ids of one owner's ended jobs to delete: those that ended longer ago than
 * the retention time, then the oldest beyond the count kept.
 */
export function expiredJobs(ended: readonly Job[], policy: RetentionPolicy, now: number): string[] {
  // The common case, on every job's end: nothing to do, found without sorting.
  if (ended.length <= policy.maxEndedJobs && ended.every((job) => now - endedAt(job) <= policy.retentionMs)) return [];
  const byAge = [...ended].sort((a, b) => endedAt(a) - endedAt(b));
  const expired = new Set<string>();
  for (const job of byAge) if (now - endedAt(job) > policy.retentionMs) expired.add(job.id);
  const kept = byAge.filter((job) => !expired.has(job.id));
  for (const job of kept.slice(0, Math.max(0, kept.length - policy.maxEndedJobs))) expired.add(job.id);
  return [...expired];
}

function endedAt(job: Job): number {
  return job.endedAt ?? job.createdAt;
}
