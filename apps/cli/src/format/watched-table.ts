import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type Job, type JobEvent, JobEventType } from "@jobworker/proto";
import { jobTable } from "./job-text.js";

/**
 * The jobs a watch has shown, kept current from its events, for `list -w` on
 * a terminal: snapshot events gather into the next table (a fresh snapshot
 * after a restart replaces the old one at its SYNCED), changes update a row,
 * deletes remove it.
 */
export class WatchedTable {
  private jobs = new Map<string, Job>();
  private incoming?: Map<string, Job>;

  /** Takes one event in; true when the table changed. */
  apply(event: JobEvent): boolean {
    if (event.type === JobEventType.SNAPSHOT) {
      this.incoming ??= new Map();
      if (event.job) this.incoming.set(event.job.id, event.job);
      return false;
    }
    if (event.type === JobEventType.SYNCED) {
      this.jobs = this.incoming ?? new Map();
      this.incoming = undefined;
      return true;
    }
    if (!event.job) return false;
    if (event.type === JobEventType.DELETED) return this.jobs.delete(event.job.id);
    this.jobs.set(event.job.id, event.job);
    return true;
  }

  /** The table as `list` prints it, oldest job first. */
  render(width: number, wide: boolean): string {
    const created = (job: Job) => (job.createTime ? timestampMs(job.createTime) : 0);
    const jobs = [...this.jobs.values()].sort((a, b) => created(a) - created(b) || a.id.localeCompare(b.id));
    return jobTable(jobs, width, wide);
  }
}
