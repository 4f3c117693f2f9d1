import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { SecureServerOptions } from "node:http2";
import { hostname } from "node:os";
import { create, fromJson } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { JobManager } from "@jobworker/core";
import {
  type Job,
  JobSchema,
  JobState,
  type StartJobRequest,
  StartJobRequestSchema,
  type StreamOutputRequest,
  type StreamOutputResponse,
} from "@jobworker/proto";
import { type Job as BullJob, Queue, QueueEvents, type RedisOptions, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Counter, Registry } from "prom-client";
import { apiError } from "../api/errors.js";
import { durationToMs, startRequestFromProto } from "../api/from-proto.js";
import { jobToProto } from "../api/to-proto.js";
import { ConfigError, type ServerConfig } from "../config.js";
import type { RoleQuotas } from "../tls/authorization.js";
import { AdmissionGate } from "./admission-gate.js";
import { abortable, withTimeout } from "./bounded-wait.js";
import { type FleetJobData, type FleetRecord, fleetJobToProto, notFound, requestToData } from "./fleet-job.js";
import { createFleetMetrics } from "./fleet-metrics.js";
import { type FleetSelf, fleetProcessor } from "./fleet-worker.js";
import { nextEvent } from "./next-event.js";
import { checkPeerCertificate } from "./peer-certificate.js";
import { type Caller, PeerClients } from "./peer-client.js";
import { redisAddress } from "./redis-options.js";

/** BullMQ's job name for every fleet job (the queue is what matters). */
const JOB_NAME = "job";
/** A queue name: BullMQ keys use ':' as separator. */
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Longest a submission waits for Redis before it is refused UNAVAILABLE. */
const SUBMIT_TIMEOUT_MS = 5_000;
/** Longest a call waits for a reconnect to Redis (it may be restarting) before it is refused UNAVAILABLE. */
const REDIS_WAIT_MS = 3_000;
/** Longest one round of WaitJob listens for a fleet job's end before it reads the job again. */
const WAIT_ROUND_MS = 60_000;
/** Longest start-up waits for Redis before it goes on without (and says so). */
const START_WAIT_MS = 5_000;
/** Longest shutdown waits for each queue connection to close. */
const CLOSE_TIMEOUT_MS = 3_000;
/** Most attempts a fleet job may ask for. */
const MAX_ATTEMPTS = 10;
/**
 * BullMQ's lowest priority: its 1 runs first, and 0 (none) would run before
 * every prioritized job. The API's priority counts the other way (higher runs
 * first, 0 lowest), so every fleet job gets BULL_LOWEST - priority.
 */
const BULL_LOWEST = 2_097_151;
/** Highest priority the API accepts (BullMQ's 1). */
const MAX_PRIORITY = BULL_LOWEST - 1;
/** Every BullMQ state a fleet job can be in, for listings. */
const ALL_STATES = ["active", "waiting", "prioritized", "delayed", "completed", "failed"] as const;

/**
 * This server's part in a fleet: the queues it submits to and takes jobs from
 * (BullMQ on the Redis of --queue-url), the jobs' records there, and the
 * forwarding of calls on a fleet job to the server that runs it.
 */
export class Fleet {
  private constructor(
    readonly self: FleetSelf,
    private readonly redis: Redis,
    private readonly redisAddress: string,
    private readonly queues: Map<string, Queue<FleetJobData>>,
    private readonly events: Map<string, QueueEvents>,
    private readonly workers: Worker[],
    private readonly manager: JobManager,
    readonly peers: PeerClients,
    private readonly retentionSeconds: number,
    private readonly gate: AdmissionGate,
  ) {}

  /** Joins the fleet once the API listens on `port`: a worker per queue starts taking jobs. */
  static async start(options: {
    config: ServerConfig;
    manager: JobManager;
    quotas: RoleQuotas;
    port: number;
    registry: Registry;
    starts: Counter;
    logger: Logger;
    connection: RedisOptions;
    /** The server's TLS options as loaded now (its certificate is also its peer certificate). */
    tls: () => SecureServerOptions;
  }): Promise<Fleet> {
    const { config, manager, logger, connection } = options;
    for (const name of config.queues) {
      if (!QUEUE_NAME.test(name)) {
        throw new ConfigError(`--queue ${JSON.stringify(name)}: use 1-63 letters, digits, '.', '_' or '-'`);
      }
    }
    const self: FleetSelf = {
      host: config.hostName || hostname(),
      address: config.advertise || `localhost:${options.port}`,
    };
    const cert = [options.tls().cert ?? []].flat()[0];
    checkPeerCertificate(cert ?? "");
    const peers = new PeerClients(options.tls);
    // Submissions fail at once while Redis is away (no offline queue): the caller gets UNAVAILABLE.
    const redis = new Redis({ ...connection, enableOfflineQueue: false });
    redis.on("error", () => {}); // reconnects on its own; each refused call says why
    // A server that starts while Redis is away still serves its own jobs, and joins once Redis is back.
    const reachable = await withTimeout(once(redis, "ready"), START_WAIT_MS).then(
      () => true,
      () => false,
    );
    if (!reachable) {
      logger.warn(
        { queueUrl: redisAddress(connection) },
        "the fleet queue's Redis cannot be reached yet: fleet calls fail UNAVAILABLE until it can (check --queue-url if this lasts)",
      );
    }
    const gate = new AdmissionGate(manager);
    const queues = new Map<string, Queue<FleetJobData>>();
    const events = new Map<string, QueueEvents>();
    const workers: Worker[] = [];
    const fleet = new Fleet(
      self,
      redis,
      redisAddress(connection),
      queues,
      events,
      workers,
      manager,
      peers,
      Math.ceil(config.retention / 1000),
      gate,
    );
    const metrics = createFleetMetrics(options.registry, () => fleet.depth());
    const processor = fleetProcessor({
      manager,
      quotas: options.quotas,
      self,
      peers,
      metrics,
      starts: options.starts,
      gate,
      logger,
    });
    for (const name of config.queues) {
      const queue = new Queue<FleetJobData>(name, { connection: redis });
      queue.on("error", () => {});
      queues.set(name, queue);
      const queueEvents = new QueueEvents(name, { connection });
      queueEvents.on("error", () => {});
      events.set(name, queueEvents);
      const worker = new Worker<FleetJobData>(name, processor, {
        connection,
        concurrency: Math.max(1, config.maxJobs),
        lockDuration: config.queueLockDuration,
        stalledInterval: config.queueStalledInterval,
        // Attempts are counted by the processor, which knows a lost attempt from a slow Redis.
        maxStalledCount: 1_000_000,
      });
      worker.on("error", (error) => logger.warn({ queue: name, reason: error.message }, "fleet queue error"));
      workers.push(worker);
      gate.attach(worker);
    }
    logger.info({ queues: config.queues, host: self.host, advertise: self.address }, "joined the fleet");
    return fleet;
  }

  /** Queues a job for whichever fleet server has room; returns it QUEUED. */
  async submit(caller: Caller, request: StartJobRequest): Promise<Job> {
    const queue = this.queue(request.queue);
    if (request.stdin || request.tty) {
      throw apiError(
        "JW_ERR_INVALID_ARGUMENT",
        "a fleet job cannot have stdin or a terminal: start it without --queue",
      );
    }
    if (request.name)
      throw apiError("JW_ERR_INVALID_ARGUMENT", "a fleet job cannot have a name (names are per server)");
    if (request.attempts > MAX_ATTEMPTS) {
      throw apiError("JW_ERR_INVALID_ARGUMENT", `attempts must be at most ${MAX_ATTEMPTS}`);
    }
    if (request.priority > MAX_PRIORITY) {
      throw apiError("JW_ERR_INVALID_ARGUMENT", `priority must be at most ${MAX_PRIORITY}`);
    }
    const delay = request.delay ? durationToMs(request.delay, "delay") : 0;
    startRequestFromProto(request); // the same edge checks as a local start, before it is queued
    await this.reachable();
    const id = randomUUID();
    const data: FleetJobData = {
      owner: caller.name,
      role: caller.role,
      request: requestToData(request),
      attempts: request.attempts || 1,
      runs: [],
    };
    const added = await withTimeout(
      queue.add(JOB_NAME, data, {
        jobId: id,
        priority: BULL_LOWEST - request.priority,
        delay: delay || undefined,
        attempts: 1,
        // Ended fleet jobs leave Redis after the server's --retention, as local ones leave the state dir.
        removeOnComplete: { age: this.retentionSeconds },
        removeOnFail: { age: this.retentionSeconds },
      }),
      SUBMIT_TIMEOUT_MS,
    ).catch((error: Error) => {
      throw this.unavailable(error);
    });
    return fleetJobToProto(this.recordOf(added, request.queue, "waiting"), request);
  }

  /** The fleet job `id` if the caller may see it (another user's answers NOT_FOUND, as a missing one); undefined if none. */
  async find(id: string, caller: Caller): Promise<{ record: FleetRecord; bull: BullJob<FleetJobData> } | undefined> {
    await this.reachable();
    for (const [name, queue] of this.queues) {
      // The state first, then the job: a job that ends in between shows its result with an older
      // state (still active: asked of its host), never a finished state without its result.
      const [state, bull] = await queue
        .getJobState(id)
        .then(async (state) => [state, state === "unknown" ? undefined : await queue.getJob(id)] as const)
        .catch((error: Error) => {
          throw this.unavailable(error);
        });
      if (!bull?.data?.owner) continue;
      if (caller.role !== "admin" && bull.data.owner !== caller.name) return undefined;
      return { record: this.recordOf(bull, name, state), bull };
    }
    return undefined;
  }

  /** The job as it is now: its current attempt's live state from its host when it runs. */
  async view(record: FleetRecord, caller: Caller, signal?: AbortSignal): Promise<Job> {
    const request = requestOf(record);
    if (record.state === "completed" && record.result !== undefined) {
      return fleetJobToProto(record, request, fromJson(JobSchema, record.result));
    }
    const run = record.data.runs.at(-1);
    if (record.state !== "active" || !run || run.lost) return fleetJobToProto(record, request);
    try {
      return fleetJobToProto(record, request, await this.attemptJob(run, caller, signal));
    } catch (error) {
      if (!(error instanceof ConnectError) || error.code !== Code.Unavailable) throw error;
      const job = fleetJobToProto(record, request);
      job.endDetail = `its server ${run.host} (${run.address}) does not answer: ${error.rawMessage}`;
      return job;
    }
  }

  /** Resolves once the fleet job has ended (wherever it ran, after every attempt). */
  async wait(id: string, caller: Caller, signal: AbortSignal): Promise<Job> {
    for (;;) {
      const found = await this.find(id, caller);
      if (!found) throw notFound(id);
      const { record, bull } = found;
      if (record.state === "completed" || record.state === "failed") return this.view(record, caller, signal);
      if (record.data.stopped && record.state !== "active") return this.view(record, caller, signal);
      const events = this.events.get(record.queue);
      if (!events) throw notFound(id);
      // Resolves or rejects on the job's end event; QueueEvents reads a stream, so none is missed across a reconnect.
      // Bounded, so that the listeners of a wait its client gave up on do not outlive it by long.
      await abortable(
        bull.waitUntilFinished(events, WAIT_ROUND_MS).catch(() => undefined),
        signal,
      );
    }
  }

  /** The output of the fleet job's current (or last) attempt, from the server that has it. */
  async *stream(
    id: string,
    caller: Caller,
    request: StreamOutputRequest,
    signal: AbortSignal,
  ): AsyncIterable<StreamOutputResponse> {
    let found = await this.find(id, caller);
    if (!found) throw notFound(id);
    // A follower of a queued job waits until a server takes it: listening before each look, so
    // an event between the look and the wait cannot be missed.
    const waiting = (record: FleetRecord) =>
      request.follow && !record.data.runs.some((run) => !run.lost) && !isFinished(record);
    while (waiting(found.record)) {
      const stopListening = new AbortController();
      const next = nextEvent(this.events.get(found.record.queue), id, AbortSignal.any([signal, stopListening.signal]));
      next.catch(() => {}); // abandoned below when the look finds the job taken already
      found = await this.find(id, caller);
      if (!found) throw notFound(id);
      if (!waiting(found.record)) {
        stopListening.abort();
        break;
      }
      await next;
      found = await this.find(id, caller);
      if (!found) throw notFound(id);
    }
    const run = found.record.data.runs.at(-1);
    if (!run) return; // never ran: no output
    if (run.address === this.self.address) {
      for await (const chunk of this.manager.openOutput(run.jobId, scopeFor(caller), {
        fromOffset: Number(request.fromOffset),
        follow: request.follow,
        signal,
        tailLines: request.tailLines === undefined ? undefined : Number(request.tailLines),
        timestamps: request.timestamps,
      })) {
        yield {
          $typeName: "jobworker.v1.StreamOutputResponse",
          offset: BigInt(chunk.offset),
          data: chunk.data,
          time: chunk.time === undefined ? undefined : timestampFromMs(chunk.time),
        };
      }
      return;
    }
    yield* this.peers.of(run.address).streamOutput({ ...request, id: run.jobId }, PeerClients.as(caller, signal));
  }

  /** Stops the fleet job: a queued one never runs; a running one is stopped on its server. */
  async stop(id: string, caller: Caller, graceMs: number | undefined, signal: AbortSignal): Promise<Job> {
    const found = await this.find(id, caller);
    if (!found) throw notFound(id);
    const { record, bull } = found;
    if (isFinished(record) || record.data.stopped) {
      throw apiError("JW_ERR_FAILED_PRECONDITION", `job ${id} has already ended`);
    }
    const run = record.data.runs.at(-1);
    if (record.state === "active" && run && !run.lost) {
      const stopped =
        run.address === this.self.address
          ? jobToProto(await this.manager.stop(run.jobId, scopeFor(caller), { graceMs }))
          : (
              await this.peers
                .of(run.address)
                .stopJob(
                  { id: run.jobId, gracePeriod: graceMs === undefined ? undefined : durationFromMs(graceMs) },
                  PeerClients.as(caller, signal),
                )
            ).job;
      return fleetJobToProto(record, requestOf(record), stopped);
    }
    // Still queued: marked, so that whichever server takes it ends it unrun.
    const data = { ...record.data, stopped: true };
    await bull.updateData(data).catch((error: Error) => {
      throw this.unavailable(error);
    });
    if (record.state === "delayed") await bull.promote().catch(() => {});
    return fleetJobToProto({ ...record, data }, requestOf(record));
  }

  /** The fleet jobs of `queue` the caller may see, oldest first, from the queue's records alone. */
  async list(queueName: string, caller: Caller, owner: string, state: JobState): Promise<Job[]> {
    const queue = this.queue(queueName);
    await this.reachable();
    const jobs = await queue.getJobs([...ALL_STATES], 0, -1, true).catch((error: Error) => {
      throw this.unavailable(error);
    });
    const visible = jobs.filter(
      (bull) =>
        bull.data?.owner &&
        (caller.role === "admin" || bull.data.owner === caller.name) &&
        (!owner || bull.data.owner === owner),
    );
    const views = await Promise.all(
      visible.map(async (listed) => {
        const state = await listed.getState();
        // Ended after it was listed: read again for its result.
        const bull = isFinishedState(state) ? ((await queue.getJob(listed.id ?? "")) ?? listed) : listed;
        const record = this.recordOf(bull, queueName, state);
        const result =
          record.state === "completed" && record.result !== undefined ? fromJson(JobSchema, record.result) : undefined;
        return fleetJobToProto(record, requestOf(record), result);
      }),
    );
    return views
      .filter((job) => state === JobState.UNSPECIFIED || job.state === state)
      .sort((a, b) => Number(a.createTime?.seconds ?? 0n) - Number(b.createTime?.seconds ?? 0n));
  }

  /** Queue depth by state, for /metrics. */
  async depth(): Promise<Array<{ queue: string; state: string; count: number }>> {
    const rows: Array<{ queue: string; state: string; count: number }> = [];
    for (const [name, queue] of this.queues) {
      const counts = await queue.getJobCounts("waiting", "prioritized", "delayed", "active");
      for (const [state, count] of Object.entries(counts)) rows.push({ queue: name, state, count });
    }
    return rows;
  }

  /**
   * Leaves the fleet: stops taking jobs and closes the connections. Jobs running
   * here go on; their records are finished by whichever server takes them after
   * their lock expires (this one again after a restart), by adopting them.
   */
  async close(): Promise<void> {
    this.gate.dispose();
    // Bounded: a connection stuck reconnecting to a Redis that is away must not hold up shutdown.
    const closing = [...this.workers, ...this.events.values(), ...this.queues.values()].map((closable) =>
      withTimeout(closable instanceof Worker ? closable.close(true) : closable.close(), CLOSE_TIMEOUT_MS).catch(
        () => {},
      ),
    );
    await Promise.all(closing);
    this.redis.disconnect();
  }

  private queue(name: string): Queue<FleetJobData> {
    const queue = this.queues.get(name);
    if (!queue) {
      throw apiError(
        "JW_ERR_FAILED_PRECONDITION",
        `this server does not serve queue ${JSON.stringify(name)}; it serves ${[...this.queues.keys()].join(", ")} (--queue)`,
      );
    }
    return queue;
  }

  /**
   * Resolves once the queue's connection is ready: at once when it is, after a
   * reconnect that comes within REDIS_WAIT_MS, or else UNAVAILABLE.
   */
  private async reachable(): Promise<void> {
    if (this.redis.status === "ready") return;
    const redis = this.redis;
    let onReady = () => {};
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
      redis.once("ready", onReady);
    });
    try {
      await withTimeout(ready, REDIS_WAIT_MS);
    } catch {
      throw this.unavailable(new Error(`connection ${redis.status}`));
    } finally {
      redis.off("ready", onReady);
    }
  }

  private unavailable(error: Error): ConnectError {
    if (error instanceof ConnectError) return error;
    return apiError(
      "JW_ERR_UNAVAILABLE",
      `the fleet queue (Redis at ${this.redisAddress}) cannot be reached (${error.message}): fleet calls fail until it is back, jobs already running go on; retry later, or start the job on one server without --queue`,
    );
  }

  private recordOf(bull: BullJob<FleetJobData>, queue: string, state: string): FleetRecord {
    return {
      id: bull.id ?? "",
      queue,
      data: { ...bull.data, runs: bull.data.runs ?? [] },
      state,
      createdAt: bull.timestamp,
      result: bull.returnvalue ?? undefined,
      failedReason: bull.failedReason,
    };
  }

  private async attemptJob(
    run: { address: string; jobId: string },
    caller: Caller,
    signal?: AbortSignal,
  ): Promise<Job> {
    if (run.address === this.self.address) return jobToProto(this.manager.get(run.jobId, scopeFor(caller)));
    const response = await this.peers.of(run.address).getJob({ id: run.jobId }, PeerClients.as(caller, signal, 10_000));
    return response.job ?? create(JobSchema, {});
  }
}

function requestOf(record: FleetRecord): StartJobRequest {
  return fromJson(StartJobRequestSchema, record.data.request);
}

function isFinished(record: FleetRecord): boolean {
  return isFinishedState(record.state);
}

function isFinishedState(state: string): boolean {
  return state === "completed" || state === "failed";
}

function scopeFor(caller: Caller) {
  return caller.role === "admin" ? { allOwners: true as const } : { owner: caller.name };
}
