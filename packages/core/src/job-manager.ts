import { randomUUID } from "node:crypto";
import { statSync, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { type ExitRecord, LaunchError, LauncherService, readExitRecord } from "@jobworker/helper";
import { wholeDiskOf } from "./cgroups/block-device.js";
import { CgroupRoot } from "./cgroups/cgroup-root.js";
import { resolveCommand } from "./command.js";
import { failedPrecondition, invalidArgument, JobError, notFound } from "./errors.js";
import { inScope, type Job, type JobScope, type StartRequest } from "./job.js";
import { isActive, type JobState, type StopCause } from "./job-state.js";
import { jobEnvironment } from "./lifecycle/job-environment.js";
import { decideOutcome } from "./lifecycle/outcome.js";
import { isSameProcessAlive, processStartTime } from "./lifecycle/process-identity.js";
import { terminate } from "./lifecycle/terminate.js";
import { validateStartRequest } from "./lifecycle/validate.js";
import { hasIoLimits, resolveLimits } from "./limits.js";
import { ManagedJob } from "./managed-job.js";
import { type JobManagerOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { type OutputChunk, type ReadOutputOptions, readOutput } from "./output/log-reader.js";
import { StateStore } from "./state-store.js";
import { UidPool } from "./uid-pool.js";

/** Longest max runtime a timer can hold (about 24.8 days). */
const MAX_RUNTIME_LIMIT_MS = 2 ** 31 - 1;

/**
 * Runs, stops, waits for, lists and streams isolated jobs. Every method takes
 * the caller's scope: a job outside it is `not_found`, exactly like a missing one.
 * Jobs outlive the manager: a new manager on the same state dir re-adopts them.
 */
export class JobManager {
  private readonly jobs = new Map<string, ManagedJob>();
  private closed = false;

  private constructor(
    readonly options: ResolvedOptions,
    private readonly store: StateStore,
    private readonly cgroups: CgroupRoot,
    private readonly uids: UidPool,
    private readonly launcher: LauncherService,
    private readonly onWarning: (message: string) => void,
  ) {}

  /** Opens the state dir, re-adopts jobs still running, and removes cgroups a crashed run left behind. */
  static async open(
    options: JobManagerOptions,
    onWarning: (message: string) => void = (message) => process.emitWarning(message),
  ): Promise<JobManager> {
    const resolved = resolveOptions(options);
    const store = await StateStore.open(resolved.stateDir);
    const cgroups = await CgroupRoot.open(resolved.cgroupParent, resolved.cgroupLayout);
    const launcher = new LauncherService(onWarning);
    const manager = new JobManager(resolved, store, cgroups, new UidPool(resolved.uidRange), launcher, onWarning);
    await manager.recover();
    return manager;
  }

  /** Starts a job. Resolves once its program runs; rejects with a JobError when it cannot. */
  async start(owner: string, request: StartRequest): Promise<Job> {
    this.assertOpen();
    validateStartRequest(request, MAX_RUNTIME_LIMIT_MS);
    const limits = resolveLimits(request.limits ?? {}, this.options.defaultLimits, this.options.maxLimits);
    if (this.activeCount() >= this.options.maxConcurrentJobs) {
      throw new JobError(
        "resource_exhausted",
        `the server already runs its maximum of ${this.options.maxConcurrentJobs} jobs`,
      );
    }
    const id = randomUUID();
    const uid = this.uids.take();
    const job = new ManagedJob({
      id,
      owner,
      command: request.command,
      executable: request.command,
      args: request.args ?? [],
      workingDirectory: request.workingDirectory || this.store.workDir(id),
      limits,
      maxRuntimeMs: request.maxRuntimeMs,
      state: "starting",
      oomKilled: false,
      createdAt: Date.now(),
      outputBytes: 0,
      uid,
    });
    // Registered before the first await, so the concurrency check above cannot be raced.
    this.jobs.set(id, job);
    try {
      await this.launchJob(job, request);
    } catch (error) {
      await this.discardFailedStart(job);
      throw error;
    }
    return this.snapshot(job);
  }

  /** Returns a job. */
  get(id: string, scope: JobScope): Job {
    return this.snapshot(this.find(id, scope));
  }

  /** Jobs in scope, oldest first, optionally only those in one state or of one owner. */
  list(scope: JobScope, filter: { state?: JobState; owner?: string } = {}): Job[] {
    return [...this.jobs.values()]
      .filter((job) => inScope(job.record, scope))
      .filter((job) => !filter.state || job.state === filter.state)
      .filter((job) => !filter.owner || job.record.owner === filter.owner)
      .map((job) => this.snapshot(job));
  }

  /**
   * Stops a job: SIGTERM, then after `graceMs` SIGKILL to its whole tree.
   * Concurrent stops share one sequence and all return the final state.
   */
  async stop(id: string, scope: JobScope, { graceMs }: { graceMs?: number } = {}): Promise<Job> {
    const job = this.find(id, scope);
    if (job.state === "ended") throw failedPrecondition(`job ${id} has already ended`);
    if (job.state === "starting") throw failedPrecondition(`job ${id} is still starting; try again`);
    await this.requestStop(job, "stopped", graceMs ?? this.options.defaultGraceMs);
    return this.snapshot(job);
  }

  /** Resolves with the job once it has ended. Rejects with an AbortError when `signal` aborts first. */
  async wait(id: string, scope: JobScope, signal?: AbortSignal): Promise<Job> {
    const job = this.find(id, scope);
    if (job.state !== "ended") {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal?.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
        void job.ended.then(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
    return this.snapshot(job);
  }

  /** The job's output from an offset, in bounded chunks; with `follow`, until the job ends. */
  openOutput(id: string, scope: JobScope, options: ReadOutputOptions = {}): AsyncIterable<OutputChunk> {
    const job = this.find(id, scope);
    if (options.fromOffset !== undefined && (!Number.isSafeInteger(options.fromOffset) || options.fromOffset < 0)) {
      throw invalidArgument(`offset must be a non-negative integer, got ${options.fromOffset}`);
    }
    return readOutput(this.store.logPath(job.record.id), job.feed, options);
  }

  /** Deletes an ended job: its record, output and work dir. */
  async delete(id: string, scope: JobScope): Promise<void> {
    const job = this.find(id, scope);
    if (job.state !== "ended") throw failedPrecondition(`job ${id} is still ${job.state}; stop it first`);
    this.jobs.delete(id);
    await this.store.remove(id);
  }

  /** Stops (default grace) and deletes every job in scope. Returns how many were deleted. */
  async clean(scope: JobScope): Promise<number> {
    const jobs = [...this.jobs.values()].filter((job) => inScope(job.record, scope));
    await Promise.all(
      jobs.map(async (job) => {
        await (job.state === "starting" || job.state === "ended"
          ? job.ended
          : this.requestStop(job, "stopped", this.options.defaultGraceMs));
        this.jobs.delete(job.record.id);
        await this.store.remove(job.record.id);
      }),
    );
    return jobs.length;
  }

  /** Stops watching. Running jobs keep running; a new manager on the same state dir re-adopts them. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.jobs.values()) {
      if (isActive(job.state)) {
        job.watcher?.close();
        clearTimeout(job.runtimeTimer);
        job.feed.end();
      }
    }
    await this.launcher.close();
  }

  /** Removes the manager's (empty) parent cgroup; for programs that own their parent. */
  async removeCgroupParent(): Promise<void> {
    await this.cgroups.removeParent();
  }

  private async launchJob(job: ManagedJob, request: StartRequest): Promise<void> {
    const { id, uid, limits } = job.record;
    const workdir = job.record.workingDirectory;
    // Independent set-up steps run concurrently: start latency is what CI users feel.
    const [executable, disk] = await Promise.all([
      resolveCommand(request.command),
      // The private work dir is created below, on the state dir's filesystem.
      hasIoLimits(limits) ? wholeDiskOf(request.workingDirectory || this.store.root) : undefined,
      this.store.createJobDirs(id, uid),
      request.workingDirectory ? assertDirectory(request.workingDirectory) : undefined,
    ]);
    if (hasIoLimits(limits) && !disk) {
      throw invalidArgument(`IO limits need a block device, and none backs ${workdir}`);
    }
    job.record = { ...job.record, executable };
    job.cgroup = await this.cgroups.create(id, limits, disk);
    const launched = await this.launcher
      .launch({
        jobDir: this.store.jobDir(id),
        logPath: this.store.logPath(id),
        executable,
        argv: [executable, ...job.record.args],
        env: jobEnvironment(request.env, this.store.workDir(id)),
        workdir,
        privateDir: this.store.workDir(id),
        hideDir: this.store.root,
        hostname: `job-${id.slice(0, 8)}`,
        uid,
        gid: uid,
        tmpSizeBytes: this.options.tmpSizeBytes,
        cgroup2Path: job.cgroup.unifiedPath,
        cgroup1Paths: job.cgroup.v1Paths,
      })
      .catch((error: unknown) => {
        throw launchFailure(error, executable);
      });
    const startTime = (await processStartTime(launched.launcherPid)) ?? "";
    job.transition("running", { startedAt: Date.now(), launcher: { pid: launched.launcherPid, startTime } });
    await this.store.save(job.record);
    this.watchJob(job);
    void launched.launcherExited.then((known) =>
      known ? this.finishFromRecord(job, { launcherGone: true }) : this.followWithoutLauncher(job),
    );
  }

  private async discardFailedStart(job: ManagedJob): Promise<void> {
    this.jobs.delete(job.record.id);
    this.uids.release(job.record.uid);
    job.markEnded();
    await job.cgroup
      ?.kill()
      .then(() => job.cgroup?.remove())
      .catch((error) => this.onWarning(`removing cgroup of failed job: ${error}`));
    await this.store.remove(job.record.id);
  }

  /** One directory watch per job: output growth for readers and the cap, and the exit record's arrival. */
  private watchJob(job: ManagedJob): void {
    let checkingSize = false;
    job.watcher = watch(this.store.jobDir(job.record.id), (_event, file) => {
      if (file === "output.log") {
        job.feed.notify();
        if (checkingSize || job.state !== "running") return;
        checkingSize = true;
        void stat(this.store.logPath(job.record.id))
          .then(({ size }) => {
            if (size > this.options.outputCapBytes && job.state === "running") {
              void this.requestStop(job, "output_limit", 0);
            }
          })
          .finally(() => {
            checkingSize = false;
          });
      } else if (file === "exit.json") {
        void this.finishFromRecord(job, { launcherGone: false });
      }
    });
    job.watcher.on("error", (error) => this.onWarning(`watch of job ${job.record.id} failed: ${error}`));
    const { maxRuntimeMs, startedAt } = job.record;
    if (maxRuntimeMs !== undefined && startedAt !== undefined) {
      const remaining = Math.max(0, startedAt + maxRuntimeMs - Date.now());
      job.runtimeTimer = setTimeout(
        () => void this.requestStop(job, "timed_out", this.options.defaultGraceMs),
        remaining,
      );
    }
  }

  private async requestStop(job: ManagedJob, cause: StopCause, graceMs: number): Promise<void> {
    if (!job.stopping && job.state === "running") {
      job.transition("stopping", { stopCause: cause });
      job.stopping = this.store
        .save(job.record)
        .then(() => terminate(job, this.store.jobDir(job.record.id), graceMs))
        .catch((error) => this.onWarning(`stopping job ${job.record.id} failed: ${error}`));
    }
    await job.ended;
  }

  /**
   * Records the job's end once the launcher's exit record exists. Without a
   * record, the job is lost only when its launcher is gone for sure.
   */
  private async finishFromRecord(job: ManagedJob, { launcherGone }: { launcherGone: boolean }): Promise<void> {
    // A closed manager has handed its jobs over to the next one: it records nothing more.
    if (this.closed || job.finishing || job.state === "ended") return;
    let exit: ExitRecord | undefined;
    let unreadable: string | undefined;
    try {
      exit = await readExitRecord(this.store.jobDir(job.record.id));
    } catch (error) {
      // Callers are fire-and-forget chains (a watch event, the launcher's exit): a throw would
      // end the process. An unreadable record (EMFILE, a corrupt file) leaves the job to its
      // next event, or, once its launcher is gone for sure, ends it as lost.
      unreadable = `its exit record could not be read (${error})`;
      this.onWarning(`job ${job.record.id}: ${unreadable}`);
    }
    if (!exit && !launcherGone) return;
    job.finishing ??= this.finish(job, exit, unreadable).catch((error: unknown) => {
      this.onWarning(`recording the end of job ${job.record.id} failed: ${error}`);
      // Waiters must not hang on a job whose end could not be read: it ended, how is unknown.
      if (job.state !== "ended")
        job.transition("ended", { endReason: "lost", endedAt: Date.now(), endDetail: String(error) });
      job.markEnded();
    });
    await job.finishing;
  }

  private async finish(job: ManagedJob, exit: ExitRecord | undefined, whyNoRecord?: string): Promise<void> {
    const cgroup = job.cgroup ?? this.cgroups.attach(job.record.id);
    if (!exit) await cgroup.kill().catch(() => false);
    const [oomKills, usage] = await Promise.all([cgroup.limits.oomKills(), cgroup.limits.usage()]).catch((error) => {
      this.onWarning(`reading usage of job ${job.record.id} failed: ${error}`);
      return [0, undefined] as const;
    });
    await cgroup.remove().catch((error) => this.onWarning(`removing cgroup of job ${job.record.id} failed: ${error}`));
    const outputBytes = this.outputSize(job.record.id) ?? 0;
    const outcome = decideOutcome(exit, job.record.stopCause, oomKills);
    if (whyNoRecord) outcome.endDetail = whyNoRecord;
    job.transition("ended", { ...outcome, usage, outputBytes, endedAt: Date.now() });
    this.uids.release(job.record.uid);
    await this.store.save(job.record).catch((error) => this.onWarning(`saving job ${job.record.id} failed: ${error}`));
    job.markEnded();
  }

  /** Loads every record, re-adopts running jobs, marks vanished ones lost, kills orphan cgroups. */
  private async recover(): Promise<void> {
    const records = await this.store.loadAll((id, error) => this.onWarning(`skipping job ${id}: ${error}`));
    for (const record of records) {
      const job = new ManagedJob(record);
      this.jobs.set(record.id, job);
      if (record.state === "ended") continue;
      this.uids.claim(record.uid);
      job.cgroup = this.cgroups.attach(record.id);
      if (record.launcher && (await isSameProcessAlive(record.launcher))) {
        this.watchJob(job); // before reading the record, so a record written in between is seen
        this.followWithoutLauncher(job);
        if (record.state === "stopping") {
          job.stopping = terminate(job, this.store.jobDir(record.id), this.options.defaultGraceMs);
        }
      } else {
        await this.finishFromRecord(job, { launcherGone: true });
      }
    }
    for (const id of await this.cgroups.list()) {
      if (this.jobs.get(id)?.state === "running" || this.jobs.get(id)?.state === "stopping") continue;
      const orphan = this.cgroups.attach(id);
      await orphan.kill();
      await orphan.remove();
      this.onWarning(`removed cgroup ${id}, left behind by an earlier run`);
    }
  }

  /**
   * Follows a running job whose launcher's exit nobody will report (re-adopted,
   * or the launcher service stopped): the exit record's arrival (watchJob) or the
   * cgroup emptying ends it, as lost if the launcher died without a record.
   */
  private followWithoutLauncher(job: ManagedJob): void {
    if (this.closed) return;
    void this.finishFromRecord(job, { launcherGone: false });
    void (job.cgroup ?? this.cgroups.attach(job.record.id)).waitEmpty().then(async () => {
      const launcher = job.record.launcher;
      const alive = launcher !== undefined && (await isSameProcessAlive(launcher));
      await this.finishFromRecord(job, { launcherGone: !alive });
    });
  }

  private find(id: string, scope: JobScope): ManagedJob {
    const job = this.jobs.get(id);
    if (!job || !inScope(job.record, scope)) throw notFound(id);
    return job;
  }

  private activeCount(): number {
    let count = 0;
    for (const job of this.jobs.values()) if (isActive(job.state)) count++;
    return count;
  }

  /** What callers get: the frozen record itself, with the output size brought up to date while it runs. */
  private snapshot(job: ManagedJob): Job {
    if (!isActive(job.state)) return job.record;
    // The log exists from the start; a failed stat only means "0 so far".
    return { ...job.record, outputBytes: this.outputSize(job.record.id) ?? job.record.outputBytes };
  }

  private outputSize(id: string): number | undefined {
    try {
      return statSync(this.store.logPath(id)).size;
    } catch {
      return undefined;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw failedPrecondition("the job manager is closed");
  }
}

async function assertDirectory(path: string): Promise<void> {
  if (!isAbsolute(path)) throw invalidArgument(`working directory ${JSON.stringify(path)} must be absolute`);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) throw invalidArgument(`working directory ${path} does not exist`);
}

/** Turns a launcher failure into the error a caller can act on. */
function launchFailure(error: unknown, executable: string): Error {
  if (!(error instanceof LaunchError)) return error instanceof Error ? error : new Error(String(error));
  if (error.errno === "ENOSPC" || error.errno === "EDQUOT") {
    return new JobError("resource_exhausted", "the state directory is full: delete jobs or free space", {
      cause: error,
    });
  }
  if (error.isExecFailure) {
    const why: Record<string, string> = {
      ENOENT: "no such file (or its interpreter is missing)",
      EACCES: "permission denied (not executable by the job's user?)",
      ENOEXEC: "not an executable format",
      ENOTDIR: "a path component is not a directory",
    };
    return invalidArgument(`cannot execute ${executable}: ${why[error.errno] ?? error.errno}`);
  }
  return new JobError("internal", error.message, { cause: error });
}
