import type { Job } from "../job.js";
import type { ManagedJob } from "../managed-job.js";
import type { LiveUsage, UsageSampler } from "./usage-sampler.js";

/** Shortest interval between usage samples a watcher may ask for. */
export const MIN_USAGE_INTERVAL_MS = 250;

/** One tick's samples for one watcher. */
export interface UsageSample {
  /** When the tick fired, in epoch milliseconds. */
  at: number;
  /** Each watched job as it is now, with its usage at the tick. */
  jobs: { job: Job; usage: LiveUsage }[];
}

interface Subscriber {
  /** The jobs this watcher wants now (re-evaluated each tick, so jobs started later join). */
  select(): ManagedJob[];
  deliver(sample: UsageSample): void;
}

/**
 * One timer per interval, shared by every watcher of that interval: each tick
 * reads each job that any of them wants once, then hands each watcher its
 * share. (Watchers of different intervals share reads too when their ticks
 * meet: the sampler merges overlapping reads of a job.)
 */
export class UsageTicker {
  private readonly groups = new Map<number, { timer: NodeJS.Timeout; subscribers: Set<Subscriber> }>();

  constructor(
    private readonly sampler: UsageSampler,
    private readonly snapshot: (job: ManagedJob) => Job,
  ) {}

  /** Timers running now (for tests). */
  get timerCount(): number {
    return this.groups.size;
  }

  /**
   * Samples `select()`'s jobs every `intervalMs` until `signal` aborts. A
   * watcher that reads slower than the ticks gets the latest sample and skips
   * the ones in between: it never holds more than one.
   */
  async *watch(select: () => ManagedJob[], intervalMs: number, signal: AbortSignal): AsyncGenerator<UsageSample> {
    let pending: UsageSample | undefined;
    let wake: (() => void) | undefined;
    const subscriber: Subscriber = {
      select,
      deliver(sample) {
        pending = sample;
        wake?.();
      },
    };
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    this.join(intervalMs, subscriber);
    try {
      while (!signal.aborted) {
        if (!pending) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        const sample = pending;
        pending = undefined;
        yield sample;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.leave(intervalMs, subscriber);
    }
  }

  private join(intervalMs: number, subscriber: Subscriber): void {
    let group = this.groups.get(intervalMs);
    if (!group) {
      const subscribers = new Set<Subscriber>();
      const timer = setInterval(() => void this.tick(subscribers), intervalMs);
      group = { timer, subscribers };
      this.groups.set(intervalMs, group);
    }
    group.subscribers.add(subscriber);
    // The first sample comes at once, not an interval later.
    void this.tick(new Set([subscriber]));
  }

  private leave(intervalMs: number, subscriber: Subscriber): void {
    const group = this.groups.get(intervalMs);
    if (!group) return;
    group.subscribers.delete(subscriber);
    if (group.subscribers.size > 0) return;
    clearInterval(group.timer);
    this.groups.delete(intervalMs);
  }

  private async tick(subscribers: ReadonlySet<Subscriber>): Promise<void> {
    const at = Date.now();
    const wanted = new Map<Subscriber, ManagedJob[]>();
    const jobs = new Set<ManagedJob>();
    for (const subscriber of subscribers) {
      const selected = subscriber.select();
      wanted.set(subscriber, selected);
      for (const job of selected) jobs.add(job);
    }
    const samples = new Map<ManagedJob, LiveUsage | undefined>();
    await Promise.all([...jobs].map(async (job) => samples.set(job, await this.sampler.sample(job))));
    for (const [subscriber, selected] of wanted) {
      const share: UsageSample["jobs"] = [];
      for (const job of selected) {
        const usage = samples.get(job);
        if (usage) share.push({ job: this.snapshot(job), usage });
      }
      subscriber.deliver({ at, jobs: share });
    }
  }
}
