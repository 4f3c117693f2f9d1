import { type ExitRecord, type LaunchedJob, readExitRecord } from "@jobworker/helper";
import type { CgroupRoot } from "../cgroups/cgroup-root.js";
import type { ResourceUsage } from "../cgroups/controller.js";
import type { JobCgroup } from "../cgroups/job-cgroup.js";
import { isActive, type StopCause } from "../job-state.js";
import { decideOutcome } from "../lifecycle/outcome.js";
import { isSameProcessAlive } from "../lifecycle/process-identity.js";
import { Termination } from "../lifecycle/terminate.js";
import type { ManagedJob } from "../managed-job.js";
import type { ResolvedOptions } from "../options.js";
import { TimeIndex } from "../output/time-index.js";
import { ALLOCATION_SLACK_BYTES, outputLimitFor } from "../sandbox/disk-space.js";
import type { StateStore } from "../state-store.js";
import { watchJobDir } from "./job-watch.js";

/** The OOM kills and usage a launcher recorded of the job's cgroup. */
function usageIn(cgroup: JobCgroup, files: Record<string, string>): readonly [number, ResourceUsage] {
  const read = (file: string) => files[file];
  return [cgroup.limits.oomKillsIn(read), cgroup.limits.usageIn(read)];
}

/** Errors that pass: the read of an exit record is tried again after a while. */
const TRANSIENT = new Set(["EMFILE", "ENFILE", "EAGAIN", "ENOMEM"]);
const RETRY_MS = 1000;

/** What supervision needs from the manager. */
export interface SupervisorContext {
  options: ResolvedOptions;
  store: StateStore;
  cgroups: CgroupRoot;
  /** The job has ended: its uid may go to another job. */
  onEnded(job: ManagedJob): void;
  onWarning(message: string): void;
}

/**
 * Watches running jobs and records how each ends: stops (graceful, then
 * forced), the runtime limit, the output limit, and the end itself, from the
 * launcher's exit record, or as lost when the launcher vanished without one.
 * Nothing here may throw into a fire-and-forget chain: every failure becomes a
 * warning and, where the job's end cannot be known, a lost job.
 */
export class JobSupervisor {
  private closed = false;

  constructor(private readonly context: SupervisorContext) {}

  /** Supervises a job this manager launched: the launcher service reports its launcher's exit. */
  superviseLaunched(job: ManagedJob, launched: LaunchedJob): void {
    job.useTimeIndex(TimeIndex.forNewJob(this.context.store.timesPath(job.id)));
    this.watch(job);
    void launched.launcherExited.then((known) =>
      known ? this.finishFromRecord(job, { launcherGone: true }) : this.followWithoutLauncher(job),
    );
  }

  /** Supervises a running job found at start-up whose launcher is alive. */
  adopt(job: ManagedJob): void {
    this.watch(job); // before reading the exit record, so a record written in between is seen
    this.followWithoutLauncher(job);
    if (job.state === "stopping") this.terminate(job, this.context.options.defaultGraceMs);
  }

  /** Ends a job whose launcher is gone: from its exit record, or as lost. */
  settle(job: ManagedJob, detail?: string): Promise<void> {
    return this.finishFromRecord(job, { launcherGone: true, detail });
  }

  /**
   * Stops a job and resolves once it has ended. A stop of a job already
   * stopping can only bring its forced end forward.
   */
  async requestStop(job: ManagedJob, cause: StopCause, graceMs: number): Promise<void> {
    if (job.state === "running") {
      job.transition("stopping", { stopCause: cause });
      // The stop comes first: a record that cannot be saved (a full disk) must not keep the job alive.
      this.terminate(job, graceMs);
      this.save(job, "its stop");
    } else if (job.state === "stopping") {
      this.terminate(job, graceMs);
    }
    await job.ended;
  }

  /** Stops recording: a new manager on the same state dir takes the jobs over. */
  close(): void {
    this.closed = true;
  }

  private terminate(job: ManagedJob, graceMs: number): void {
    job.beginTermination(
      new Termination(this.context.store.jobDir(job.id), job.cgroup, (error) =>
        this.context.onWarning(`stopping job ${job.id}: ${error}`),
      ),
    );
    job.termination?.request(graceMs);
  }

  /** The job dir's watch (output, output limit, exit record) and the runtime limit. */
  private watch(job: ManagedJob): void {
    const { store, options, onWarning } = this.context;
    const limit = outputLimitFor(job.record.limits.diskBytes, options.outputCapBytes);
    const times = job.timeIndex ?? TimeIndex.openForAppend(store.timesPath(job.id));
    job.useTimeIndex(times);
    const watch = watchJobDir(store.jobDir(job.id), store.logPath(job.id), {
      onOutput: () => {
        times.noticed(Date.now());
        job.feed.notify();
      },
      onOutputSize: ({ size, blocks }) => {
        times.learned(size, Date.now());
        const past = size > limit || blocks * 512 > limit + ALLOCATION_SLACK_BYTES;
        if (past && isActive(job.state)) void this.requestStop(job, "output_limit", 0);
      },
      onExitRecord: () => void this.finishFromRecord(job, { launcherGone: false }),
      onError: (error) => onWarning(`watch of job ${job.id} failed: ${error}`),
    });
    // What the job wrote before the watch was in place raised no event: the index learns of it now.
    times.learned(store.outputSize(job.id) ?? 0, Date.now());
    let runtimeTimer: NodeJS.Timeout | undefined;
    const { maxRuntimeMs, startedAt } = job.record;
    if (maxRuntimeMs !== undefined && startedAt !== undefined) {
      const remaining = Math.max(0, startedAt + maxRuntimeMs - Date.now());
      runtimeTimer = setTimeout(() => void this.requestStop(job, "timed_out", options.defaultGraceMs), remaining);
    }
    job.supervise({
      release() {
        watch.close();
        clearTimeout(runtimeTimer);
        void times.flush();
      },
    });
  }

  /**
   * Follows a running job whose launcher's exit nobody will report (re-adopted,
   * or the launcher service stopped): the exit record's arrival (the watch) or
   * the cgroup emptying ends it, as lost if the launcher died without a record.
   */
  private followWithoutLauncher(job: ManagedJob): void {
    if (this.closed) return;
    void this.finishFromRecord(job, { launcherGone: false });
    const cgroup = job.cgroup ?? this.context.cgroups.attach(job.id);
    cgroup.waitEmpty().then(
      async () => {
        const launcher = job.record.launcher;
        const alive = launcher !== undefined && (await isSameProcessAlive(launcher));
        await this.finishFromRecord(job, { launcherGone: !alive });
      },
      (error: unknown) => this.context.onWarning(`watching the cgroup of job ${job.id} failed: ${error}`),
    );
  }

  /**
   * Records the job's end once the launcher's exit record exists. Without a
   * record, the job is lost only when its launcher is gone for sure. A record
   * that cannot be parsed ends the job as lost, saying why.
   */
  private async finishFromRecord(
    job: ManagedJob,
    { launcherGone, detail }: { launcherGone: boolean; detail?: string },
  ): Promise<void> {
    // A closed manager has handed its jobs over to the next one: it records nothing more.
    if (this.closed || job.isFinishing || job.state === "ended") return;
    let exit: ExitRecord | undefined;
    let why = detail;
    try {
      exit = await readExitRecord(this.context.store.jobDir(job.id));
    } catch (error) {
      if (TRANSIENT.has((error as NodeJS.ErrnoException).code ?? "")) {
        this.context.onWarning(`reading the exit record of job ${job.id} failed (${error}); trying again`);
        setTimeout(() => void this.finishFromRecord(job, { launcherGone, detail }), RETRY_MS).unref();
        return;
      }
      this.context.onWarning(`the exit record of job ${job.id} is unusable, so it ends as lost: ${error}`);
      why = `its exit record could not be read: ${(error as Error).message}`;
    }
    if (!exit && !launcherGone && why === undefined) return;
    await job.finishOnce(() => this.finish(job, exit, why));
  }

  private async finish(job: ManagedJob, exit: ExitRecord | undefined, detail: string | undefined): Promise<void> {
    const { cgroups, store, options, onWarning } = this.context;
    const cgroup = job.cgroup ?? cgroups.attach(job.id);
    if (!exit) await cgroup.kill().catch(() => false);
    // The launcher read the usage into its exit record and removed the v1 directories of the cgroup
    // it made; when it could not (or is gone, or predates that), they are read and removed here.
    const recorded = exit?.cgroup;
    const [oomKills, usage] = recorded
      ? usageIn(cgroup, recorded.files)
      : await Promise.all([cgroup.limits.oomKills(), cgroup.limits.usage()]).catch((error) => {
          onWarning(`reading usage of job ${job.id} failed: ${error}`);
          return [0, undefined] as const;
        });
    await cgroup
      .remove({ v1Removed: recorded?.v1Removed })
      .catch((error) => onWarning(`removing cgroup of job ${job.id} failed: ${error}`));
    const outputBytes = store.outputSize(job.id) ?? 0;
    // The last stretch of output, and what is still in memory, go to the index before the end is told.
    job.timeIndex?.learned(outputBytes, Date.now());
    await job.timeIndex?.flush();
    const limit = outputLimitFor(job.record.limits.diskBytes, options.outputCapBytes);
    // A job can reach its output limit and end by itself (a write failed with EFBIG) before the stop lands.
    const stopCause = job.record.stopCause ?? (outputBytes > limit ? "output_limit" : undefined);
    const outcome = decideOutcome(exit, stopCause, oomKills);
    job.transition("ended", {
      ...outcome,
      ...(detail !== undefined && { endDetail: detail }),
      usage,
      outputBytes,
      endedAt: Date.now(),
    });
    this.context.onEnded(job);
    this.save(job, "its end");
    job.markEnded();
  }

  private save(job: ManagedJob, what: string): void {
    try {
      this.context.store.saveSync(job.record);
    } catch (error) {
      this.context.onWarning(`saving ${what} for job ${job.id} failed: ${error}`);
    }
  }
}
