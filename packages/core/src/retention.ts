import type { Job } from "./job.js";

/** How long ended jobs are kept, and how many per owner. */
export interface RetentionPolicy {
  retentionMs: number;
  maxEndedJobs: number;
}

/**
 * One owner's ended jobs, oldest end first, so that finding what retention
 * deletes costs the jobs deleted, not every job kept: a job's end and each
 * start used to scan (and on the rare occasion sort) them all.
 *
 * Jobs end in time order, so `add` appends; only records loaded at start-up
 * (sorted by creation) may land in the middle. `remove` (a job deleted or
 * cleaned by hand) leaves its entry in place and counts it as gone: it is
 * skipped when it reaches the front, and the queue is compacted once gone
 * entries outnumber the kept ones, so its length stays within twice the kept.
 */
export class RetentionQueue<T extends { readonly record: Job }> {
  private entries: T[] = [];
  private head = 0;
  private readonly kept = new Set<T>();

  /** Ended jobs kept. */
  get size(): number {
    return this.kept.size;
  }

  add(job: T): void {
    if (this.kept.has(job)) return;
    this.kept.add(job);
    const at = endedAt(job.record);
    let index = this.entries.length;
    // Loaded records aside, this stops at once: the newest end is the latest.
    while (index > this.head && endedAt((this.entries[index - 1] as T).record) > at) index--;
    this.entries.splice(index, 0, job);
  }

  remove(job: T): void {
    if (!this.kept.delete(job)) return;
    if (this.entries.length - this.head > 2 * this.kept.size + 32) {
      this.entries = this.entries.slice(this.head).filter((entry) => this.kept.has(entry));
      this.head = 0;
    }
  }

  /**
   * Takes out and returns the jobs to delete now: those that ended longer ago
   * than the retention time, then the oldest beyond the count kept.
   */
  expire(policy: RetentionPolicy, now: number): T[] {
    const expired: T[] = [];
    for (;;) {
      const oldest = this.oldest();
      if (!oldest) break;
      if (now - endedAt(oldest.record) <= policy.retentionMs && this.kept.size <= policy.maxEndedJobs) break;
      this.kept.delete(oldest);
      this.head++;
      expired.push(oldest);
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return expired;
  }

  /** The kept job that ended first, dropping the removed ones in front of it. */
  private oldest(): T | undefined {
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head] as T;
      if (this.kept.has(entry)) return entry;
      this.head++;
    }
    return undefined;
  }
}

function endedAt(job: Job): number {
  return job.endedAt ?? job.createdAt;
}
