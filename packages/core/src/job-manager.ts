import { randomUUID } from "node:crypto";
import { statfs } from "node:fs/promises";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { LauncherService } from "@jobworker/helper";
import { untilAborted } from "./abortable.js";
import type { StartOptions, StopOptions, WaitOptions } from "./call-options.js";
import { CgroupRoot } from "./cgroups/cgroup-root.js";
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from "./errors.js";
import { claimHost } from "./host-claim.js";
import { type ExecRequest, type JobExec, startExec } from "./interactive/job-exec.js";
import { connectJobInput, type JobInput } from "./interactive/job-input.js";
import { parseSignal } from "./interactive/signals.js";
import {
  inScope,
  type Job,
  type JobFilter,
  type JobScope,
  matchesFilter,
  type StartRequest,
  type TerminalSize,
} from "./job.js";
import { isActive } from "./job-state.js";
import { JobTally } from "./job-tally.js";
import { launchJob } from "./lifecycle/launch.js";
import { processStartTime } from "./lifecycle/process-identity.js";
import { validateStartRequest, validateTerminalSize } from "./lifecycle/validate.js";
import { resolveLimits } from "./limits.js";
import { compareJobs, type JobPage, pageOf } from "./listing.js";
import { ManagedJob, type TransitionListener } from "./managed-job.js";
import { type JobManagerOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { ChunkBudget } from "./output/chunk-budget.js";
import type { OutputChunk, ReadOutputOptions } from "./output/log-reader.js";
import { checkOutputQuery, type OutputQuery, queryOutput } from "./output/output-query.js";
import { outputStream } from "./output/output-stream.js";
import { DEFAULT_OWNER, OwnerJobs } from "./owner-jobs.js";
import { assertRoom, type OwnerQuota, StartRateLimiter } from "./quota.js";
import { recoverJobs } from "./recovery.js";
import { checkExposedPaths, checkWorkingDirectory, JOB_WORK_DIR } from "./sandbox/filesystem-view.js";
import { checkUidRange } from "./sandbox/uid-range.js";
import { INLINE_ARGS_BYTES, StateStore, type StoredJob } from "./state-store.js";
import { JobSupervisor } from "./supervision/supervisor.js";
import { UidPool } from "./uid-pool.js";
import { type LiveUsage, UsageSampler } from "./usage/usage-sampler.js";
import { MIN_USAGE_INTERVAL_MS, type UsageSample, UsageTicker } from "./usage/usage-ticker.js";
import { eventTypeOf, JobJournal } from "./watch/job-journal.js";
import { type WatchEvent, type WatchOptions, watchJobs } from "./watch/watch-jobs.js";

/** Longest max runtime a timer can hold (about 24.8 days). */
const MAX_RUNTIME_LIMIT_MS = 2 ** 31 - 1;
/** How often expired jobs are looked for. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Runs, stops, waits for, lists and streams isolated jobs on this host. Every
 * method takes the caller's scope, so a program serving several users cannot
 * forget an owner check: a job outside the scope is `not_found`, exactly like a
 * missing one. A program that runs its own jobs uses {@link JobManager.forOwner}
 * instead and passes no owner or scope at all.
 *
 * Jobs outlive the manager, and the process that holds it: a new manager on
 * the same state dir re-adopts the jobs still running and keeps the ended ones.
 *
 * The policies live in their own modules: launching (lifecycle/launch.ts),
 * supervision and recording the end (supervision/), recovery after a restart
 * (recovery.ts), quotas (quota.ts), retention (retention.ts).
 */
export class JobManager {
  private readonly jobs = new Map<string, ManagedJob>();
  /** Counts, names and retention order of `jobs`, kept up to date: no start or end scans every job. */
  private readonly tally = new JobTally<ManagedJob>();
  private readonly listeners = new Set<TransitionListener>();
  private readonly startRate = new StartRateLimiter();
  /** Owners whose quota names its own count of ended jobs kept (admins, say). */
  private readonly endedQuotas = new Map<string, number>();
  private readonly supervisor: JobSupervisor;
  /** Every change of every job, numbered, for watchers (watch). */
  private readonly journal: JobJournal;
  /** Live usage of running jobs: reads shared by every caller and watcher. */
  private readonly sampler: UsageSampler;
  private readonly ticker: UsageTicker;
  /** How large every output reader's chunks may be, with how many read at once. */
  private readonly readerBudget = new ChunkBudget();
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly options: ResolvedOptions,
    private readonly store: StateStore,
    private readonly cgroups: CgroupRoot,
    private readonly uids: UidPool,
    private readonly launcher: LauncherService,
    private readonly maxOutputBytesTotal: number,
    private readonly releaseClaim: () => void,
    private readonly onWarning: (message: string) => void,
  ) {
    this.journal = new JobJournal(options.eventLogSize);
    this.sampler = new UsageSampler((id) => store.outputSize(id));
    this.ticker = new UsageTicker(this.sampler, (job) => this.snapshot(job));
    this.supervisor = new JobSupervisor({
      options,
      store,
      cgroups,
      onEnded: (job) => {
        this.uids.release(job.record.uid);
        this.pruneEnded(job.record.owner);
      },
      onWarning,
    });
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  /**
   * Opens the state dir, re-adopts jobs still running, and removes cgroups a
   * crashed run left behind. Refuses to open when another live manager on the
   * host uses the same state dir or cgroup parent, or an overlapping uid range.
   *
   * @param options - where state lives and the defaults; only `stateDir` is required.
   * @param onWarning - told about what the manager works around (an unreadable
   *   record, a cgroup it could not remove). Default: `process.emitWarning`.
   * @param onTransition - subscribed (as by `subscribe`) before recovery, so it
   *   also hears of the jobs that ended while no manager ran.
   */
  static async open(
    options: JobManagerOptions,
    onWarning: (message: string) => void = (message) => process.emitWarning(message),
    onTransition?: TransitionListener,
  ): Promise<JobManager> {
    const resolved = resolveOptions(options);
    checkUidRange(resolved.uidRange);
    resolved.exposedPaths = checkExposedPaths(resolved.exposedPaths, resolve(resolved.stateDir));
    const release = await claimHost({
      stateDir: resolve(resolved.stateDir),
      cgroupParent: resolved.cgroupParent,
      uidRange: resolved.uidRange,
    });
    try {
      return await JobManager.openClaimed(resolved, release, onWarning, onTransition);
    } catch (error) {
      release();
      throw error;
    }
  }

  private static async openClaimed(
    resolved: ResolvedOptions,
    releaseClaim: () => void,
    onWarning: (message: string) => void,
    onTransition: TransitionListener | undefined,
  ): Promise<JobManager> {
    const store = await StateStore.open(resolved.stateDir);
    const cgroups = await CgroupRoot.open(resolved.cgroupParent, resolved.cgroupLayout, resolved.jobsCeiling);
    const launcher = new LauncherService(onWarning);
    const filesystem = await statfs(store.root);
    const budget = resolved.maxOutputBytesTotal ?? Math.floor((filesystem.blocks * filesystem.bsize) / 2);
    const manager = new JobManager(
      resolved,
      store,
      cgroups,
      new UidPool(resolved.uidRange),
      launcher,
      budget,
      releaseClaim,
      onWarning,
    );
    if (onTransition) manager.subscribe(onTransition);
    const records = await store.loadAll((id, error) => onWarning(`skipping job ${id}: ${error}`));
    await recoverJobs(
      {
        cgroups,
        supervisor: manager.supervisor,
        register: (record) => manager.register(record),
        jobDir: (id) => store.jobDir(id),
        onWarning,
      },
      records,
    );
    manager.sweep();
    return manager;
  }

  /**
   * The jobs of one owner, with no owner or scope to pass on each call. With no
   * argument: {@link DEFAULT_OWNER}'s, the owner for a program that runs its own jobs.
   */
  forOwner(owner: string = DEFAULT_OWNER): OwnerJobs {
    if (!owner) throw invalidArgument("an owner must not be empty");
    return new OwnerJobs(this, owner);
  }

  /**
   * Starts a job of `owner`. Resolves once its program runs (it has been
   * exec'd); rejects with a {@link JobError} when it cannot: a bad request or
   * limit, a command or working directory the job cannot use (`invalid_argument`),
   * a full quota (`resource_exhausted`), a closed manager (`failed_precondition`).
   */
  async start(owner: string, request: StartRequest, options: StartOptions = {}): Promise<Job> {
    this.assertOpen();
    options.signal?.throwIfAborted();
    validateStartRequest(request, MAX_RUNTIME_LIMIT_MS);
    if (request.workingDirectory) checkWorkingDirectory(request.workingDirectory, this.options.exposedPaths);
    const limits = resolveLimits(request.limits ?? {}, this.options.defaultLimits, this.options.maxLimits);
    const quota = options.quota ?? this.options.defaultQuota;
    this.assertRoom(owner, quota);
    // Checked in the same tick as the job is registered below: two starts cannot both pass.
    if (request.name !== undefined) this.assertNameFree(owner, request.name);
    // Kept for pruning: an owner's ended jobs are counted against the quota it last started with.
    if (quota.maxEndedJobs !== undefined) this.endedQuotas.set(owner, quota.maxEndedJobs);
    const id = randomUUID();
    const args = request.args ?? [];
    const argsBytes = args.reduce((bytes, arg) => bytes + Buffer.byteLength(arg) + 1, 0);
    const argsInFile = argsBytes > INLINE_ARGS_BYTES;
    const job = this.register({
      id,
      owner,
      ...(request.name !== undefined && { name: request.name }),
      ...(request.labels && Object.keys(request.labels).length > 0 && { labels: { ...request.labels } }),
      command: request.command,
      executable: request.command,
      args: argsInFile ? [] : args,
      ...(argsInFile && { argsFile: { bytes: argsBytes } }),
      workingDirectory: request.workingDirectory || JOB_WORK_DIR,
      limits,
      maxRuntimeMs: request.maxRuntimeMs,
      state: "starting",
      oomKilled: false,
      createdAt: Date.now(),
      outputBytes: 0,
      uid: this.uids.take(),
      ...((request.stdin || request.tty) && { stdin: true }),
      ...(request.tty && { tty: true }),
    });
    this.journal.append("created", this.eventRecord(job));
    try {
      // Saved before the job runs: a crash from here on leaves a record that recovery settles.
      await this.store.createJobDir(id);
      if (argsInFile) this.store.saveArgs(id, args);
      this.store.saveSync(job.record);
      const launched = await launchJob(this.launchContext, job, request);
      const startTime = launched.launcherStartTime ?? (await processStartTime(launched.launcherPid)) ?? "";
      job.transition("running", { startedAt: Date.now(), launcher: { pid: launched.launcherPid, startTime } });
      // Not saved again: the launcher's own launch record (exit.json.tmp) names it until the job's
      // exit record replaces that, and recovery re-adopts a job recorded as starting through it (recovery.ts).
      // A second record per start cost more of the server's CPU than anything else in a start.
      this.supervisor.superviseLaunched(job, launched);
    } catch (error) {
      await this.discardFailedStart(job);
      throw error;
    }
    if (options.signal?.aborted) await this.abandonStart(job, options.signal.reason);
    return this.snapshot(job);
  }

  /** The job as it is now; `not_found` when it is missing or outside the scope. */
  get(id: string, scope: JobScope): Job {
    return this.snapshot(this.find(id, scope));
  }

  /** Jobs in scope, oldest first, optionally only those in one state, of one owner or with certain labels. */
  list(scope: JobScope, filter: JobFilter = {}): Job[] {
    return this.matching(scope, filter).map((job) => this.snapshot(job));
  }

  /**
   * One page of `list`, oldest first; see listing.ts for how pages are cut and
   * why they neither repeat nor skip a job.
   */
  listPage(scope: JobScope, filter: JobFilter, page: { size: number; token?: string; maxBytes?: number }): JobPage {
    const { jobs, nextPageToken } = pageOf(this.matching(scope, filter), page);
    return { jobs: jobs.map((job) => this.snapshot(job)), nextPageToken };
  }

  /**
   * Stops a job: SIGTERM, then after `graceMs` SIGKILL to its whole tree, and
   * resolves with the job once it has ended. A job already stopping takes the
   * earlier of its two deadlines. Concurrent stops share one sequence and all
   * return the final state. Aborting `signal` stops the waiting, not the stop.
   * `failed_precondition` when the job has ended or is still starting.
   */
  async stop(id: string, scope: JobScope, options: StopOptions = {}): Promise<Job> {
    const { graceMs, signal } = options;
    const job = this.find(id, scope);
    const grace = graceMs ?? this.options.defaultGraceMs;
    if (!Number.isSafeInteger(grace) || grace < 0 || grace > this.options.maxGraceMs) {
      throw invalidArgument(`grace must be between 0 and ${this.options.maxGraceMs} ms, got ${graceMs}`);
    }
    if (job.state === "ended") throw failedPrecondition(`job ${id} has already ended`);
    if (job.state === "starting") throw failedPrecondition(`job ${id} is still starting; try again`);
    await untilAborted(this.supervisor.requestStop(job, "stopped", grace), signal);
    return this.snapshot(job);
  }

  /**
   * Resolves with the job once it has ended. Rejects with the signal's reason
   * when it aborts first. (A bare `AbortSignal` in place of the options is
   * accepted too.)
   */
  async wait(id: string, scope: JobScope, options: WaitOptions | AbortSignal = {}): Promise<Job> {
    const job = this.find(id, scope);
    await job.waitForEnd(options instanceof AbortSignal ? options : options.signal);
    return this.snapshot(job);
  }

  /**
   * The job's output as an async iterable of chunks, each with its byte offset,
   * from `fromOffset` (default 0). Without `follow` it ends at the output's
   * current end; with it, once the job has ended and every byte has been read.
   * Breaking out of the loop or aborting `signal` releases the reader at once.
   * Output is bytes, as written: never decoded or split into lines. `tailLines`
   * starts at the last lines (read from the end of the file), `since` at the
   * first output learned of at or after a time, and `timestamps` gives each
   * chunk the time the server learned of it (see output/time-index.ts).
   */
  openOutput(id: string, scope: JobScope, options: OutputQuery = {}): AsyncIterable<OutputChunk & { time?: number }> {
    const job = this.find(id, scope);
    checkOutputQuery(options);
    return queryOutput(
      {
        logPath: this.store.logPath(job.id),
        timesPath: this.store.timesPath(job.id),
        feed: job.feed,
        live: isActive(job.state) ? job.timeIndex : undefined,
        fallbackTime: job.record.startedAt ?? job.record.createdAt,
        budget: this.readerBudget,
      },
      options,
    );
  }

  /** {@link JobManager.openOutput} as a Node `Readable` of bytes, for `pipe` and `pipeline`. */
  outputStream(id: string, scope: JobScope, options: ReadOutputOptions = {}): Readable {
    return outputStream(this.openOutput(id, scope, options));
  }

  /**
   * Sends a signal to a running job's main process (a name like "TERM" or
   * "SIGINT", or a number), as `kill` would: no stop sequence, no grace, and
   * the job ends only if the signal ends it. `failed_precondition` when the job
   * is not running.
   */
  async signal(id: string, scope: JobScope, signal: string | number): Promise<void> {
    const job = this.find(id, scope);
    const number = parseSignal(signal);
    this.assertRunning(job);
    const input = await connectJobInput(this.store.jobDir(id), id);
    try {
      await input.signal(number);
    } finally {
      input.release();
    }
  }

  /**
   * Connects to a running job's stdin (or terminal), which it must have been
   * started with (`stdin` or `tty`): see {@link JobInput}. Several inputs may
   * be open at once; the caller releases each.
   */
  async openInput(id: string, scope: JobScope): Promise<JobInput> {
    const job = this.find(id, scope);
    this.assertRunning(job);
    if (!job.record.stdin) {
      throw failedPrecondition(`job ${id} was started without stdin; start it with stdin or a terminal`);
    }
    return connectJobInput(this.store.jobDir(id), id);
  }

  /**
   * Runs another process in a running job: in its namespaces, cgroups and
   * limits, as its uid under its seccomp filter, in its working directory.
   * See {@link JobExec}; the caller reads its events and releases it.
   */
  async exec(id: string, scope: JobScope, request: ExecRequest): Promise<JobExec> {
    const job = this.find(id, scope);
    this.assertRunning(job);
    return startExec(this.store.jobDir(id), id, request);
  }

  /** Sets a running terminal job's window size (the job gets SIGWINCH). */
  async resize(id: string, scope: JobScope, size: TerminalSize): Promise<void> {
    const job = this.find(id, scope);
    validateTerminalSize(size);
    this.assertRunning(job);
    if (!job.record.tty) throw failedPrecondition(`job ${id} has no terminal; start it with one to resize it`);
    const input = await connectJobInput(this.store.jobDir(id), id);
    try {
      await input.resize(size);
    } finally {
      input.release();
    }
  }

  /** Deletes an ended job: its record and output. `failed_precondition` while it runs. */
  async delete(id: string, scope: JobScope): Promise<void> {
    const job = this.find(id, scope);
    if (job.state !== "ended") throw failedPrecondition(`job ${id} is still ${job.state}; stop it first`);
    this.forget(job);
    await this.store.remove(id);
  }

  /**
   * Stops (default grace) and deletes every job in scope (that passes `filter`,
   * when given; only the ended ones with `endedOnly`, so nothing is stopped).
   * Returns how many were deleted. Aborting `signal` stops the waiting; the
   * stops and deletes carry on.
   */
  async clean(
    scope: JobScope,
    options: WaitOptions & { filter?: JobFilter; endedOnly?: boolean } = {},
  ): Promise<number> {
    const filter = options.filter ?? {};
    const jobs = [...this.jobs.values()].filter(
      (job) =>
        inScope(job.record, scope) &&
        matchesFilter(job.record, filter) &&
        (!options.endedOnly || job.state === "ended"),
    );
    const cleaned = Promise.all(
      jobs.map(async (job) => {
        await (job.state === "starting" || job.state === "ended"
          ? job.ended
          : this.supervisor.requestStop(job, "stopped", this.options.defaultGraceMs));
        this.forget(job);
        await this.store.discard(job.id);
      }),
    );
    await untilAborted(cleaned, options.signal);
    return jobs.length;
  }

  /**
   * The jobs in scope that pass the filter, as they are now, then every change
   * to them (created, running, stopping, ended, deleted) until `signal`
   * aborts, in batches (one event each while the watcher keeps up; what piled
   * up, at most 256, once it falls behind). Each event carries a revision; a watcher that passes the epoch and
   * revision of the last event it saw goes on with the very next one, while
   * this manager still holds it (the last `eventLogSize` events); otherwise,
   * and after a restart, it starts over with a snapshot marked `reset`.
   */
  watch(scope: JobScope, options: WatchOptions = {}): AsyncGenerator<WatchEvent[]> {
    return watchJobs(this.journal, () => this.matching(scope, {}).map((job) => this.eventRecord(job)), scope, options);
  }

  /**
   * A running job's usage now, read from its cgroup: CPU time and percent,
   * memory current and peak, IO bytes, pids, output bytes. Undefined once the
   * job has ended (its record then holds its final usage) or while it starts.
   */
  liveUsage(id: string, scope: JobScope): Promise<LiveUsage | undefined> {
    return this.sampler.sample(this.find(id, scope));
  }

  /**
   * Samples running jobs' usage every `intervalMs` (at least 250) until
   * `signal` aborts: the jobs named by `ids`, or every running job in scope
   * that passes `filter` (jobs started later join). One timer per interval
   * and one cgroup read per job per tick, however many watch.
   */
  watchUsage(
    scope: JobScope,
    options: { ids?: string[]; filter?: JobFilter; intervalMs: number; signal: AbortSignal },
  ): AsyncGenerator<UsageSample> {
    const { intervalMs } = options;
    if (!Number.isSafeInteger(intervalMs) || intervalMs < MIN_USAGE_INTERVAL_MS || intervalMs > 3_600_000) {
      throw invalidArgument(
        `the usage interval must be between ${MIN_USAGE_INTERVAL_MS} ms and 1 hour, got ${intervalMs}`,
      );
    }
    const named = options.ids?.length ? options.ids.map((id) => this.find(id, scope)) : undefined;
    const filter = options.filter ?? {};
    const select = named
      ? () => named.filter((job) => isActive(job.state))
      : () => this.matching(scope, filter).filter((job) => isActive(job.state));
    return this.ticker.watch(select, intervalMs, options.signal);
  }

  /** Cgroup reads made for live usage so far (one per job per tick, however many watch). */
  get usageReads(): number {
    return this.sampler.reads;
  }

  /** The epoch and newest revision of the event log (see `watch`). */
  get eventLogHead(): { epoch: string; revision: number } {
    return { epoch: this.journal.epoch, revision: this.journal.head };
  }

  /**
   * Calls `listener` after every change of a job's state, with the job as it
   * now is and the state it left, for every owner's jobs. Returns a function
   * that unsubscribes.
   */
  subscribe(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops watching. Running jobs keep running; a new manager on the same state dir re-adopts them. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.supervisor.close();
    for (const job of this.jobs.values()) {
      if (isActive(job.state)) {
        job.releaseSupervision();
        job.feed.end();
      }
    }
    await this.launcher.close();
    this.releaseClaim();
  }

  /**
   * Removes the manager's parent cgroup, once no job is left in it (after
   * `clean` and `close`): for a program that owns its `cgroupParent` and is
   * done with it for good.
   */
  async removeCgroupParent(): Promise<void> {
    await this.cgroups.removeParent();
  }

  /** What the launch step needs of this manager. */
  private get launchContext() {
    return { options: this.options, store: this.store, cgroups: this.cgroups, launcher: this.launcher };
  }

  private register(record: StoredJob): ManagedJob {
    const job: ManagedJob = new ManagedJob(record, (current, from) => {
      if (current.state === "ended" && this.jobs.get(job.id) === job) this.tally.ended(job);
      this.journal.append(eventTypeOf(current.state), this.eventRecord(job), from);
      if (this.listeners.size === 0) return;
      const snapshot = this.snapshot(job);
      for (const listener of this.listeners) listener(snapshot, from);
    });
    this.jobs.set(record.id, job);
    this.tally.add(job);
    if (isActive(record.state)) this.uids.claim(record.uid);
    return job;
  }

  /** Refuses a start the server, the owner's quota or the output budget has no room for. */
  private assertRoom(owner: string, quota: OwnerQuota): void {
    assertRoom(
      {
        active: this.tally.active,
        ownerActive: this.tally.activeOf(owner),
        endedOutputBytes: this.tally.endedOutputBytes,
      },
      owner,
      quota,
      {
        maxActiveJobs: this.options.maxConcurrentJobs,
        maxOutputBytes: this.maxOutputBytesTotal,
      },
    );
    this.startRate.take(owner, quota);
  }

  /** A start given up while the job launched: the job, running by now, is killed at once and deleted. */
  private async abandonStart(job: ManagedJob, reason: unknown): Promise<never> {
    await this.supervisor.requestStop(job, "stopped", 0);
    this.forget(job);
    await this.store.remove(job.id);
    throw reason;
  }

  private async discardFailedStart(job: ManagedJob): Promise<void> {
    this.forget(job);
    this.uids.release(job.record.uid);
    job.markEnded();
    await job.cgroup
      ?.kill()
      .then(() => job.cgroup?.remove())
      .catch((error) => this.onWarning(`removing cgroup of failed job: ${error}`));
    await this.store.remove(job.id);
  }

  /** Deletes ended jobs past the retention time, and each owner's oldest past its count. */
  private sweep(): void {
    this.startRate.prune();
    for (const owner of this.tally.ownersWithEndedJobs()) this.pruneEnded(owner);
  }

  /** Deletes the owner's ended jobs past retention: the oldest ends first, without looking at the rest. */
  private pruneEnded(owner: string): void {
    if (this.closed) return;
    const expired = this.tally.expire(
      owner,
      {
        retentionMs: this.options.retentionMs,
        maxEndedJobs: this.endedQuotas.get(owner) ?? this.options.maxEndedJobsPerOwner,
      },
      Date.now(),
    );
    for (const job of expired) {
      this.forget(job);
      this.store.discard(job.id).catch((error) => this.onWarning(`deleting expired job ${job.id} failed: ${error}`));
    }
  }

  /** Jobs in scope that pass the filter, oldest first (creation time, then id). */
  private matching(scope: JobScope, filter: JobFilter): ManagedJob[] {
    return [...this.jobs.values()]
      .filter((job) => inScope(job.record, scope) && matchesFilter(job.record, filter))
      .sort((a, b) => compareJobs(a.record, b.record));
  }

  /** Drops a job from the manager (its files are the caller's to remove) and tells watchers. */
  private forget(job: ManagedJob): void {
    if (this.jobs.get(job.id) !== job) return;
    this.jobs.delete(job.id);
    this.tally.remove(job);
    this.journal.append("deleted", this.eventRecord(job), job.state);
  }

  /** A name is unique among its owner's jobs, ended ones included (until they are deleted). */
  private assertNameFree(owner: string, name: string): void {
    const job = this.tally.named(owner, name);
    if (job) throw alreadyExists(`you already have a job named ${name} (${job.id}); delete it or choose another name`);
  }

  private find(id: string, scope: JobScope): ManagedJob {
    const job = this.jobs.get(id);
    if (!job || !inScope(job.record, scope)) throw notFound(id);
    return job;
  }

  /**
   * What callers get: the frozen record itself, with the output size brought
   * up to date while it runs, and long arguments read back from their file.
   */
  private snapshot(job: ManagedJob): Job {
    const { argsFile, ...record } = job.record;
    if (!isActive(job.state) && !argsFile) return job.record;
    return {
      ...record,
      ...(argsFile && { args: this.store.loadArgs(job.id) ?? [] }),
      // The log exists from the start; a failed stat only means "0 so far".
      ...(isActive(job.state) && { outputBytes: this.store.outputSize(job.id) ?? record.outputBytes }),
    };
  }

  /**
   * A job as watchers get it: as `snapshot`, except that arguments too long
   * for the record stay in their file (empty here). The event log holds
   * thousands of these, and a watch's snapshot may hold every job.
   */
  private eventRecord(job: ManagedJob): Job {
    // A starting job has not run yet: it has written nothing.
    if (!isActive(job.state) || job.state === "starting") return job.record;
    return { ...job.record, outputBytes: this.store.outputSize(job.id) ?? job.record.outputBytes };
  }

  private assertRunning(job: ManagedJob): void {
    if (job.state === "ended") throw failedPrecondition(`job ${job.id} has ended`);
    if (job.state === "starting") throw failedPrecondition(`job ${job.id} is still starting; try again`);
  }

  private assertOpen(): void {
    if (this.closed) throw failedPrecondition("the job manager is closed");
  }
}
