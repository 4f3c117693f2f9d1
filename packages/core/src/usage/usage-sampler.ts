import type { CurrentUsage, ResourceUsage } from "../cgroups/controller.js";
import { isActive } from "../job-state.js";
import type { ManagedJob } from "../managed-job.js";

/** A running job's usage at one moment. */
export interface LiveUsage extends ResourceUsage, CurrentUsage {
  /** CPU use since the previous sample (at least MIN_WINDOW_MS before), in percent of one core. */
  cpuPercent: number;
  /** Bytes of output written so far. */
  outputBytes: number;
  /** When the cgroup was read, in epoch milliseconds. */
  sampledAt: number;
}

/** Shortest time a CPU percentage is measured over: shorter windows are mostly scheduler noise. */
export const MIN_WINDOW_MS = 200;

interface Reading {
  cpuMicros: number;
  at: number;
}

/**
 * Reads running jobs' usage from their cgroups. Reads of one job that overlap
 * share one read, so any number of watchers cost one read per job per tick.
 * The CPU percentage is measured against the last reading at least
 * MIN_WINDOW_MS old (or, for a job's first sample, against its start).
 * Everything is keyed weakly on the job: nothing outlives it.
 */
export class UsageSampler {
  private readonly inFlight = new WeakMap<ManagedJob, Promise<LiveUsage | undefined>>();
  /** The two readings percentages are measured against: the newer, and the one before it. */
  private readonly baselines = new WeakMap<ManagedJob, { older?: Reading; newer: Reading }>();
  /** Cgroup reads made (for tests and the benchmark: proves sharing). */
  reads = 0;

  constructor(private readonly outputSize: (id: string) => number | undefined) {}

  /** The job's usage now; undefined once it has ended (its final usage is in its record). */
  sample(job: ManagedJob): Promise<LiveUsage | undefined> {
    let reading = this.inFlight.get(job);
    if (!reading) {
      reading = this.read(job).finally(() => this.inFlight.delete(job));
      this.inFlight.set(job, reading);
    }
    return reading;
  }

  private async read(job: ManagedJob): Promise<LiveUsage | undefined> {
    const cgroup = job.cgroup;
    if (!cgroup || !isActive(job.state)) return undefined;
    this.reads++;
    // A job that ends while it is read loses its cgroup: it has no live usage any more.
    const read = await Promise.all([cgroup.limits.usage(), cgroup.limits.current()]).catch(() => undefined);
    if (!read || !isActive(job.state)) return undefined;
    const [usage, current] = read;
    const at = Date.now();
    const cpuPercent = this.cpuPercent(job, { cpuMicros: usage.cpuTimeMicros, at });
    return {
      ...usage,
      ...current,
      cpuPercent,
      outputBytes: this.outputSize(job.id) ?? job.record.outputBytes,
      sampledAt: at,
    };
  }

  private cpuPercent(job: ManagedJob, now: Reading): number {
    const start = { cpuMicros: 0, at: job.record.startedAt ?? job.record.createdAt };
    const kept = this.baselines.get(job) ?? { newer: start };
    const base = now.at - kept.newer.at >= MIN_WINDOW_MS ? kept.newer : (kept.older ?? start);
    if (now.at - kept.newer.at >= MIN_WINDOW_MS) this.baselines.set(job, { older: kept.newer, newer: now });
    const windowMs = now.at - base.at;
    if (windowMs <= 0) return 0;
    return Math.max(0, ((now.cpuMicros - base.cpuMicros) / 1000 / windowMs) * 100);
  }
}
