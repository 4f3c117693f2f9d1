import { JobError } from "./errors.js";

/** Hands out transient uids (like systemd's DynamicUser): one per active job, never shared. */
export class UidPool {
  private readonly inUse = new Set<number>();
  private next: number;

  constructor(private readonly range: { first: number; count: number }) {
    if (range.first <= 0 || range.count <= 0) throw new Error("the job uid range must be above 0 and not empty");
    this.next = range.first;
  }

  /** Takes a free uid. Rotates through the range, so a just-freed uid is reused last. */
  take(): number {
    for (let tried = 0; tried < this.range.count; tried++) {
      const uid = this.next;
      this.next = uid + 1 >= this.range.first + this.range.count ? this.range.first : uid + 1;
      if (!this.inUse.has(uid)) {
        this.inUse.add(uid);
        return uid;
      }
    }
    throw new JobError("resource_exhausted", "every uid in the job uid range is in use");
  }

  /** Marks a uid as used (a re-adopted job's). */
  claim(uid: number): void {
    this.inUse.add(uid);
  }

  release(uid: number): void {
    this.inUse.delete(uid);
  }
}
