import type { JobCgroup } from "./cgroups/job-cgroup.js";
import type { Job } from "./job.js";
import { assertTransition, type JobState } from "./job-state.js";
import type { Termination } from "./lifecycle/terminate.js";
import { OutputFeed } from "./output/output-feed.js";
import type { TimeIndex } from "./output/time-index.js";
import type { StoredJob } from "./state-store.js";

/** What watches a running job (its directory watch, its runtime timer); released once, at its end or a close. */
export interface Supervision {
  release(): void;
}

/** Told of every state change, with the record as it now is and the state it left. */
/** Told of each change of a job's state: the job as it now is, and the state it left. */
export type TransitionListener = (job: Readonly<Job>, from: JobState) => void;

/**
 * A job as the manager holds it: its record, which changes only through
 * `transition` (or `update` for facts that are not a state change), plus what
 * exists only while it runs. Each of those is set once, through a method.
 */
export class ManagedJob {
  readonly feed = new OutputFeed();
  /** Resolves once the job has ended and its record says how. */
  readonly ended: Promise<void>;
  private current!: Readonly<StoredJob>;
  private resolveEnded!: () => void;
  private jobCgroup?: JobCgroup;
  private times?: TimeIndex;
  private supervision?: Supervision;
  private stopSequence?: Termination;
  private finishing?: Promise<void>;
  private readonly endWaiters = new Set<() => void>();

  constructor(
    record: StoredJob,
    private readonly onTransition: TransitionListener = () => {},
  ) {
    this.setRecord(record);
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    if (record.state === "ended") this.markEnded();
  }

  /**
   * The job's record. Frozen, so it can be handed out without copying; changes
   * replace it whole. Long arguments are not in it (see StoredJob).
   */
  get record(): Readonly<StoredJob> {
    return this.current;
  }

  get state(): JobState {
    return this.record.state;
  }

  get id(): string {
    return this.record.id;
  }

  /** The job's cgroup, once created or attached. */
  get cgroup(): JobCgroup | undefined {
    return this.jobCgroup;
  }

  /** The stop under way, if any: later stop requests go to it. */
  get termination(): Termination | undefined {
    return this.stopSequence;
  }

  /** Moves the job to `to`, as the state machine allows, and tells the listener. */
  transition(to: JobState, changes: Partial<Job> = {}): void {
    const from = this.record.state;
    assertTransition(from, to);
    this.setRecord({ ...this.record, ...changes, state: to });
    this.onTransition(this.record, from);
  }

  /** Records facts that are not a change of state (the resolved executable, say). */
  update(changes: Partial<Omit<Job, "state">>): void {
    this.setRecord({ ...this.record, ...changes });
  }

  useCgroup(cgroup: JobCgroup): void {
    this.jobCgroup = cgroup;
  }

  /** The output time index, while the job runs and is watched. */
  get timeIndex(): TimeIndex | undefined {
    return this.times;
  }

  useTimeIndex(index: TimeIndex): void {
    this.times = index;
  }

  /** Hands the job its supervision; released at its end, or by `releaseSupervision` when a manager closes. */
  supervise(supervision: Supervision): void {
    this.supervision?.release();
    this.supervision = supervision;
  }

  releaseSupervision(): void {
    this.supervision?.release();
    this.supervision = undefined;
  }

  /** Starts the job's one stop sequence (later stops call `termination.request`). */
  beginTermination(termination: Termination): void {
    this.stopSequence ??= termination;
  }

  /** Records the job's end once: concurrent callers share the first recording. */
  finishOnce(record: () => Promise<void>): Promise<void> {
    this.finishing ??= record();
    return this.finishing;
  }

  get isFinishing(): boolean {
    return this.finishing !== undefined;
  }

  /**
   * Resolves at the job's end; rejects with the signal's reason if it aborts
   * first. A waiter that gives up leaves nothing behind (a `.then` on `ended`
   * would hold its closure until the job ends, however long that takes).
   */
  waitForEnd(signal?: AbortSignal): Promise<void> {
    if (this.state === "ended") return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.endWaiters.delete(onEnd);
        reject(signal?.reason);
      };
      const onEnd = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      this.endWaiters.add(onEnd);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Number of waiters (for tests). */
  get waiterCount(): number {
    return this.endWaiters.size;
  }

  /** Releases what only a running job holds and wakes everyone waiting for the end. */
  markEnded(): void {
    this.releaseSupervision();
    this.stopSequence?.cancel();
    this.feed.end();
    this.resolveEnded();
    for (const waiter of this.endWaiters) waiter();
    this.endWaiters.clear();
  }

  private setRecord(record: StoredJob): void {
    for (const value of Object.values(record)) if (typeof value === "object") Object.freeze(value);
    this.current = Object.freeze(record);
  }
}
