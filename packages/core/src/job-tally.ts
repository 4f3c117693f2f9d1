import type { Job } from "./job.js";
import { isActive } from "./job-state.js";
import { type RetentionPolicy, RetentionQueue } from "./retention.js";

/**
 * What each start's checks and each end's retention need to know about all
 * the jobs a manager holds (active jobs, per owner too; output bytes of ended
 * jobs; names; each owner's ended jobs in end order), kept up to date as jobs
 * are added, end and are removed, so none of them scans every job: with
 * thousands of jobs kept, those scans were most of a start's own CPU.
 */
export class JobTally<T extends { readonly record: Job }> {
  private activeJobs = 0;
  private endedBytes = 0;
  private readonly activeByOwner = new Map<string, number>();
  private readonly endedByOwner = new Map<string, RetentionQueue<T>>();
  private readonly names = new Map<string, Map<string, T>>();

  /** Jobs starting, running or stopping. */
  get active(): number {
    return this.activeJobs;
  }

  /** Output bytes of the ended jobs held. */
  get endedOutputBytes(): number {
    return this.endedBytes;
  }

  activeOf(owner: string): number {
    return this.activeByOwner.get(owner) ?? 0;
  }

  /** The owner's job of that name, ended ones included. */
  named(owner: string, name: string): T | undefined {
    return this.names.get(owner)?.get(name);
  }

  /** Owners that have ended jobs held. */
  ownersWithEndedJobs(): string[] {
    return [...this.endedByOwner.keys()];
  }

  /** A job the manager now holds, in whatever state (a new one, or one loaded at start-up). */
  add(job: T): void {
    const { owner, name } = job.record;
    if (name !== undefined) {
      const byName = this.names.get(owner) ?? new Map<string, T>();
      this.names.set(owner, byName);
      byName.set(name, job);
    }
    if (isActive(job.record.state)) this.countActive(owner, 1);
    else this.addEnded(job);
  }

  /** A job held has just ended (its record says so). */
  ended(job: T): void {
    this.countActive(job.record.owner, -1);
    this.addEnded(job);
  }

  /** A job the manager no longer holds (deleted, expired, or a start that failed). */
  remove(job: T): void {
    const { owner, name } = job.record;
    const byName = name === undefined ? undefined : this.names.get(owner);
    if (name !== undefined && byName?.get(name) === job) {
      byName.delete(name);
      if (byName.size === 0) this.names.delete(owner);
    }
    if (isActive(job.record.state)) {
      this.countActive(owner, -1);
      return;
    }
    this.endedBytes -= job.record.outputBytes;
    const queue = this.endedByOwner.get(owner);
    queue?.remove(job);
    if (queue?.size === 0) this.endedByOwner.delete(owner);
  }

  /**
   * The owner's ended jobs that retention deletes now (see RetentionQueue);
   * they are still counted until `remove`d.
   */
  expire(owner: string, policy: RetentionPolicy, now: number): T[] {
    return this.endedByOwner.get(owner)?.expire(policy, now) ?? [];
  }

  private addEnded(job: T): void {
    this.endedBytes += job.record.outputBytes;
    const { owner } = job.record;
    const queue = this.endedByOwner.get(owner) ?? new RetentionQueue<T>();
    this.endedByOwner.set(owner, queue);
    queue.add(job);
  }

  private countActive(owner: string, by: 1 | -1): void {
    this.activeJobs += by;
    const count = (this.activeByOwner.get(owner) ?? 0) + by;
    if (count > 0) this.activeByOwner.set(owner, count);
    else this.activeByOwner.delete(owner);
  }
}
