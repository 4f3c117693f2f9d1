import type { Readable } from "node:stream";
import type { StartOptions, StopOptions, WaitOptions } from "./call-options.js";
import type { ExecRequest, JobExec } from "./interactive/job-exec.js";
import type { JobInput } from "./interactive/job-input.js";
import type { Job, JobFilter, JobScope, StartRequest, TerminalSize } from "./job.js";
import type { JobManager } from "./job-manager.js";
import type { JobPage } from "./listing.js";
import type { TransitionListener } from "./managed-job.js";
import type { OutputChunk, ReadOutputOptions } from "./output/log-reader.js";
import type { OutputQuery } from "./output/output-query.js";
import type { WatchEvent, WatchOptions } from "./watch/watch-jobs.js";

/**
 * The owner of jobs that a program starts for itself, with no users of its
 * own: what {@link JobManager.forOwner} binds when it is given no owner.
 */
export const DEFAULT_OWNER = "local";

/**
 * One owner's jobs, without passing an owner or a scope to every call: the
 * face of {@link JobManager} for a program that runs its own jobs. Every call
 * sees only this owner's jobs; another owner's job is `not_found`, exactly
 * like a missing one. Get one from {@link JobManager.forOwner}.
 */
export class OwnerJobs {
  /** The scope every call of this object is made in. */
  readonly scope: JobScope;

  /** @internal Use {@link JobManager.forOwner}. */
  constructor(
    private readonly manager: JobManager,
    /** Whose jobs these are: the owner of every job `start` starts. */
    readonly owner: string,
  ) {
    this.scope = { owner };
  }

  /** Starts a job of this owner: see {@link JobManager.start}. */
  start(request: StartRequest, options?: StartOptions): Promise<Job> {
    return this.manager.start(this.owner, request, options);
  }

  /** The job as it is now: see {@link JobManager.get}. */
  get(id: string): Job {
    return this.manager.get(id, this.scope);
  }

  /** This owner's jobs, oldest first, optionally only those in one state or with certain labels. */
  list(filter: Omit<JobFilter, "owner"> = {}): Job[] {
    return this.manager.list(this.scope, filter);
  }

  /** One page of {@link OwnerJobs.list}: see {@link JobManager.listPage}. */
  listPage(filter: Omit<JobFilter, "owner">, page: { size: number; token?: string }): JobPage {
    return this.manager.listPage(this.scope, filter, page);
  }

  /** Stops a job, resolving once it has ended: see {@link JobManager.stop}. */
  stop(id: string, options?: StopOptions): Promise<Job> {
    return this.manager.stop(id, this.scope, options);
  }

  /** Sends a signal to a running job's main process: see {@link JobManager.signal}. */
  signal(id: string, signal: string | number): Promise<void> {
    return this.manager.signal(id, this.scope, signal);
  }

  /** Connects to a running job's stdin or terminal: see {@link JobManager.openInput}. */
  openInput(id: string): Promise<JobInput> {
    return this.manager.openInput(id, this.scope);
  }

  /** Runs another process in a running job: see {@link JobManager.exec}. */
  exec(id: string, request: ExecRequest): Promise<JobExec> {
    return this.manager.exec(id, this.scope, request);
  }

  /** Sets a running terminal job's window size: see {@link JobManager.resize}. */
  resize(id: string, size: TerminalSize): Promise<void> {
    return this.manager.resize(id, this.scope, size);
  }

  /** Resolves with the job once it has ended: see {@link JobManager.wait}. */
  wait(id: string, options?: WaitOptions): Promise<Job> {
    return this.manager.wait(id, this.scope, options);
  }

  /** The job's output as an async iterable of chunks: see {@link JobManager.openOutput}. */
  openOutput(id: string, options?: OutputQuery): AsyncIterable<OutputChunk & { time?: number }> {
    return this.manager.openOutput(id, this.scope, options);
  }

  /** The job's output as a Node `Readable` of bytes: see {@link JobManager.outputStream}. */
  outputStream(id: string, options?: ReadOutputOptions): Readable {
    return this.manager.outputStream(id, this.scope, options);
  }

  /** Deletes an ended job with its output: see {@link JobManager.delete}. */
  delete(id: string): Promise<void> {
    return this.manager.delete(id, this.scope);
  }

  /** Stops and deletes every job of this owner (that passes `filter`): see {@link JobManager.clean}. */
  clean(options?: WaitOptions & { filter?: Omit<JobFilter, "owner">; endedOnly?: boolean }): Promise<number> {
    return this.manager.clean(this.scope, options);
  }

  /** This owner's jobs now, then every change to them: see {@link JobManager.watch}. */
  watch(options?: WatchOptions): AsyncGenerator<WatchEvent[]> {
    return this.manager.watch(this.scope, options);
  }

  /**
   * Calls `listener` after every change of state of this owner's jobs (and of
   * no one else's). Returns a function that unsubscribes.
   */
  subscribe(listener: TransitionListener): () => void {
    return this.manager.subscribe((job, from) => {
      if (job.owner === this.owner) listener(job, from);
    });
  }
}
