import { randomUUID } from "node:crypto";
import type { Job } from "../job.js";
import type { JobState } from "../job-state.js";

/** What changed: a job was created, changed state, or was deleted. */
export type JobEventType = "created" | "running" | "stopping" | "ended" | "deleted";

/** One change of one job, at its place in the manager's event log. */
export interface JobEvent {
  /** Position in the log: one more than the change before it, of any job. */
  revision: number;
  /** What happened to the job. */
  type: JobEventType;
  /** The job just after the change (for `deleted`: as it was last). */
  job: Readonly<Job>;
  /** The state the job left (for `deleted`: its last state; absent for `created`). */
  from?: JobState;
}

/** What the event type of a transition into `state` is. */
export function eventTypeOf(state: JobState): JobEventType {
  return state === "starting" ? "created" : state;
}

/**
 * The manager's bounded log of job events, numbered by revision, which
 * watchers read from their own cursor: a watcher costs a number, not a queue,
 * so a slow one holds no memory. The log keeps the last `capacity` events; a
 * cursor older than that can no longer be resumed (the watcher takes a fresh
 * snapshot). Revisions start again at 1 with each manager, which is why the
 * log has an epoch: a revision means something only with its epoch.
 */
export class JobJournal {
  /** Identifies this log: a resume point from another epoch (another run) is not in it. */
  readonly epoch = randomUUID();
  private events: JobEvent[] = [];
  /** Revision of events[0]. */
  private first = 1;
  private last = 0;
  private readonly waiters = new Set<() => void>();
  private wakeScheduled = false;

  constructor(private readonly capacity: number) {}

  /** Revision of the newest event (0 before the first). */
  get head(): number {
    return this.last;
  }

  /**
   * Appends an event; every watcher waiting for one wakes once this turn of
   * the event loop is over (its I/O callbacks, a poll's worth of launches and
   * exits), not at each event: what changed in one turn reaches a watcher as one
   * batch, and a hundred watchers cost a hundred wake-ups and messages per
   * turn, not per event.
   */
  append(type: JobEventType, job: Readonly<Job>, from?: JobState): void {
    this.last += 1;
    this.events.push({ revision: this.last, type, job, ...(from !== undefined && { from }) });
    // Trimmed in batches, so appending stays O(1) amortised.
    if (this.events.length > this.capacity + Math.max(1, this.capacity >> 3)) {
      const drop = this.events.length - this.capacity;
      this.events.splice(0, drop);
      this.first += drop;
    }
    if (this.waiters.size > 0 && !this.wakeScheduled) {
      this.wakeScheduled = true;
      setImmediate(this.wakeWaiters);
    }
  }

  private readonly wakeWaiters = (): void => {
    this.wakeScheduled = false;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  };

  /** True when a watcher whose last seen revision is `revision` can go on from the log. */
  canResume(revision: number): boolean {
    return Number.isSafeInteger(revision) && revision >= this.first - 1 && revision <= this.last;
  }

  /** The event after `revision`: undefined when none has happened yet, "gone" when the log no longer holds it. */
  after(revision: number): JobEvent | "gone" | undefined {
    if (revision < this.first - 1) return "gone";
    return this.events[revision + 1 - this.first];
  }

  /** Resolves at the next append, or when `signal` aborts. Leaves nothing behind either way. */
  changed(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Watchers waiting now (for tests). */
  get waiterCount(): number {
    return this.waiters.size;
  }
}
