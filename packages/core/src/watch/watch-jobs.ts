import { inScope, type Job, type JobFilter, type JobScope, matchesFilter } from "../job.js";
import type { JobEvent, JobJournal } from "./job-journal.js";

/** Where a watch resumes: the epoch and revision of the last event its client saw. */
export interface WatchResume {
  /** The event log's epoch the revision belongs to (JobManager.eventLogHead). */
  epoch: string;
  /** The revision of the last event seen: the watch goes on with the next. */
  afterRevision: number;
}

/** What a watch yields: the snapshot's jobs, the end of the snapshot, then changes. */
export type WatchEvent =
  | { type: "snapshot"; revision: number; job: Readonly<Job> }
  | {
      type: "synced";
      revision: number;
      /** The snapshot replaces what the watcher knew: it asked to resume from a point the log no longer holds. */
      reset: boolean;
    }
  | JobEvent;

/** Options of {@link JobManager.watch}. */
export interface WatchOptions {
  /** Only jobs that pass (a state filter also lets through the change that takes a job out of the state). */
  filter?: JobFilter;
  /** Go on after this point, when the log still holds it; otherwise start with a snapshot marked `reset`. */
  resume?: WatchResume;
  /** Ends the watch. */
  signal?: AbortSignal;
}

/** Most events in one batch: a watcher far behind catches up in bounded messages. */
export const MAX_BATCH = 256;

/**
 * The events a watcher of `scope` is to see, in batches: a snapshot of the
 * jobs now, then every change from the log, read from its own cursor. Each
 * batch holds what is there to read when the watcher asks (at most
 * MAX_BATCH): one event while it keeps up, more once it falls behind, so a
 * busy server sends fewer, fuller messages. A watcher that falls behind the
 * log's capacity (it does not read, or reads too slowly) gets a fresh
 * snapshot, marked `reset`, rather than holding memory.
 */
export async function* watchJobs(
  journal: JobJournal,
  currentJobs: () => Job[],
  scope: JobScope,
  options: WatchOptions,
): AsyncGenerator<WatchEvent[]> {
  const filter = options.filter ?? {};
  const signal = options.signal ?? new AbortController().signal;
  const { resume } = options;
  let cursor = 0;
  let snapshotNeeded = true;
  let reset = false;
  if (resume) {
    if (resume.epoch === journal.epoch && journal.canResume(resume.afterRevision)) {
      cursor = resume.afterRevision;
      snapshotNeeded = false;
    } else {
      reset = true;
    }
  }
  while (!signal.aborted) {
    if (snapshotNeeded) {
      // Taken in one tick with the head: no change falls between the snapshot and the cursor.
      const revision = journal.head;
      const jobs = currentJobs().filter((job) => inScope(job, scope) && matchesFilter(job, filter));
      const events: WatchEvent[] = jobs.map((job) => ({ type: "snapshot", revision, job }));
      events.push({ type: "synced", revision, reset });
      for (let at = 0; at < events.length; at += MAX_BATCH) yield events.slice(at, at + MAX_BATCH);
      cursor = revision;
      snapshotNeeded = false;
      continue;
    }
    const batch: WatchEvent[] = [];
    let event = journal.after(cursor);
    while (event !== undefined && event !== "gone" && batch.length < MAX_BATCH) {
      cursor = event.revision;
      if (concerns(event, scope, filter)) batch.push(event);
      event = journal.after(cursor);
    }
    if (batch.length > 0) {
      yield batch;
      continue;
    }
    if (event === "gone") {
      snapshotNeeded = true;
      reset = true;
      continue;
    }
    // Nothing new, or nothing for this watcher: wait for the next change.
    if (journal.after(cursor) === undefined) await journal.changed(signal);
  }
}

/** True when the watcher should see the event: the job is in scope and passes the filter, or just left its state. */
function concerns(event: JobEvent, scope: JobScope, filter: JobFilter): boolean {
  if (!inScope(event.job, scope)) return false;
  if (matchesFilter(event.job, filter)) return true;
  return (
    filter.state !== undefined &&
    event.from === filter.state &&
    matchesFilter(event.job, { ...filter, state: undefined })
  );
}
