import type { FSWatcher } from "node:fs";
import type { JobCgroup } from "./cgroups/job-cgroup.js";
import type { Job } from "./job.js";
import { assertTransition, type JobState } from "./job-state.js";
import { OutputFeed } from "./output/output-feed.js";

/** A job as the manager holds it: its record plus what exists only while it runs. */
export class ManagedJob {
  readonly feed = new OutputFeed();
  /** Resolves once the job has ended and its record says how. */
  readonly ended: Promise<void>;
  cgroup?: JobCgroup;
  watcher?: FSWatcher;
  runtimeTimer?: NodeJS.Timeout;
  /** Set while a stop is under way; concurrent stops share it. */
  stopping?: Promise<void>;
  /** Set once the job's end is being recorded; makes finishing idempotent. */
  finishing?: Promise<void>;
  private resolveEnded!: () => void;

  private current!: Readonly<Job>;

  constructor(record: Job) {
    this.record = record;
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    if (record.state === "ended") this.markEnded();
  }

  /** The job's record. Frozen, so it can be handed out without copying; changes replace it whole. */
  get record(): Readonly<Job> {
    return this.current;
  }

  set record(record: Job) {
    for (const value of Object.values(record)) if (typeof value === "object") Object.freeze(value);
    this.current = Object.freeze(record);
  }

  get state(): JobState {
    return this.record.state;
  }

  /** Moves the job to `to`, as the state machine allows. */
  transition(to: JobState, changes: Partial<Job> = {}): void {
    assertTransition(this.record.state, to);
    this.record = { ...this.record, ...changes, state: to };
  }

  /** Releases what only a running job holds and wakes everyone waiting for the end. */
  markEnded(): void {
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.runtimeTimer);
    this.feed.end();
    this.resolveEnded();
  }
}
