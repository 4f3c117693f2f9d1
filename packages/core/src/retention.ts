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
  const byAge = [...ended].sort((a, b) => (a.endedAt ?? a.createdAt) - (b.endedAt ?? b.createdAt));
  const expired = new Set<string>();
  for (const job of byAge) if (now - (job.endedAt ?? job.createdAt) > policy.retentionMs) expired.add(job.id);
  const kept = byAge.filter((job) => !expired.has(job.id));
  for (const job of kept.slice(0, Math.max(0, kept.length - policy.maxEndedJobs))) expired.add(job.id);
  return [...expired];
}
