import { create, type JsonValue, toJson } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";
import {
  EndReason,
  type Job,
  JobAttemptSchema,
  JobSchema,
  JobState,
  type StartJobRequest,
  StartJobRequestSchema,
} from "@jobworker/proto";
import { apiError } from "../api/errors.js";
import type { Role } from "../tls/identity.js";

/** One attempt of a fleet job: a local job on one server. */
export interface FleetRun {
  attempt: number;
  /** The server's --host-name. */
  host: string;
  /** Where peers reach that server (its --advertise). */
  address: string;
  /** The local job's id on that server. */
  jobId: string;
  /** Set once the attempt is known to be lost: why, naming its host. */
  lost?: string;
}

/**
 * What a fleet job keeps in Redis: the owner (written by the server that took
 * the submission, from the caller's certificate), the request, and its
 * attempts. Never output bytes, never keys.
 */
export interface FleetJobData {
  owner: string;
  role: Role;
  /** StartJobRequest as protobuf JSON, without the fleet fields. */
  request: JsonValue;
  attempts: number;
  runs: FleetRun[];
  /** Set by a stop that came while the job was queued. */
  stopped?: boolean;
}

/** What a BullMQ job gives us to describe a fleet job. */
export interface FleetRecord {
  id: string;
  queue: string;
  data: FleetJobData;
  /** BullMQ's state: waiting, delayed, prioritized, active, completed, failed… */
  state: string;
  createdAt: number;
  /** The final job as its host reported it (protobuf JSON), once completed. */
  result?: JsonValue;
  failedReason?: string;
}

/** The request as stored: the fleet fields are the queue's business, not the local job's. */
export function requestToData(request: StartJobRequest): JsonValue {
  const local = create(StartJobRequestSchema, { ...request, queue: "", priority: 0, delay: undefined, attempts: 0 });
  return toJson(StartJobRequestSchema, local);
}

/** States in which a fleet job waits for a server. */
const QUEUED_STATES = new Set(["waiting", "wait", "delayed", "prioritized", "paused", "waiting-children"]);

/**
 * The API's view of a fleet job from its record alone; `current` is its
 * current attempt's local job when known (live from its host, or its final
 * record). The id is always the fleet job's.
 */
export function fleetJobToProto(record: FleetRecord, request: StartJobRequest, current?: Job): Job {
  const runs = record.data.runs;
  const last = runs.at(-1);
  const finished = record.state === "completed" || record.state === "failed";
  const base =
    current ??
    create(JobSchema, {
      owner: record.data.owner,
      command: request.command,
      args: request.args,
      workingDirectory: request.workingDirectory || "/work",
      labels: request.labels,
      createTime: timestampFromMs(record.createdAt),
      state: finished
        ? JobState.ENDED
        : record.data.stopped
          ? JobState.ENDED
          : QUEUED_STATES.has(record.state) || !last
            ? JobState.QUEUED
            : JobState.RUNNING,
    });
  const job = create(JobSchema, {
    ...base,
    id: record.id,
    owner: record.data.owner,
    createTime: timestampFromMs(record.createdAt),
    queue: record.queue,
    maxAttempts: record.data.attempts,
  });
  const active = last && !last.lost && !(QUEUED_STATES.has(record.state) && !finished && !current);
  if (last && (active || finished || current)) {
    job.host = last.host;
    job.attempt = last.attempt;
    job.attemptJobId = last.jobId;
  }
  const earlier = job.attemptJobId ? runs.slice(0, -1) : runs;
  job.previousAttempts = earlier.map((run) =>
    create(JobAttemptSchema, {
      attempt: run.attempt,
      host: run.host,
      jobId: run.jobId,
      endReason: run.lost ? EndReason.LOST : EndReason.UNSPECIFIED,
      endDetail: run.lost ?? "",
    }),
  );
  if (!current && record.data.stopped && !finished) {
    job.state = JobState.ENDED;
    job.endReason = EndReason.STOPPED;
    job.endDetail = "stopped while queued";
  }
  if (!current && record.state === "failed") {
    job.state = JobState.ENDED;
    const lost = last?.lost;
    job.endReason = lost ? EndReason.LOST : record.data.stopped ? EndReason.STOPPED : EndReason.UNSPECIFIED;
    job.endDetail = lost ?? record.failedReason ?? "";
    if (last?.lost) {
      job.host = last.host;
      job.attempt = last.attempt;
      job.attemptJobId = last.jobId;
      job.previousAttempts = job.previousAttempts.filter((attempt) => attempt.attempt !== last.attempt);
    }
  }
  return job;
}

/** The NOT_FOUND a missing (or hidden) fleet job answers, worded as for a local one. */
export function notFound(id: string): ConnectError {
  return apiError("JW_ERR_NOT_FOUND", `job ${id} not found`);
}
