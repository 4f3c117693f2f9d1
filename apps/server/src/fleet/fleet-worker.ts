import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { isJobError, type JobManager } from "@jobworker/core";
import { JobSchema, StartJobRequestSchema } from "@jobworker/proto";
import { type Job as BullJob, UnrecoverableError, WaitingError } from "bullmq";
import type { Logger } from "pino";
import type { Counter } from "prom-client";
import { startRequestFromProto } from "../api/from-proto.js";
import { jobToProto } from "../api/to-proto.js";
import type { RoleQuotas } from "../tls/authorization.js";
import type { AdmissionGate } from "./admission-gate.js";
import type { FleetJobData, FleetRun } from "./fleet-job.js";
import type { FleetMetrics } from "./fleet-metrics.js";
import { PeerClients } from "./peer-client.js";

/** This server as its fleet knows it. */
export interface FleetSelf {
  host: string;
  address: string;
}

export interface FleetWorkerContext {
  manager: JobManager;
  quotas: RoleQuotas;
  self: FleetSelf;
  peers: PeerClients;
  metrics: FleetMetrics;
  /** Closed after a refusal for lack of room, until there may be room again. */
  gate: AdmissionGate;
  /** The server's jobworker_job_starts_total: an attempt started here is a start like any other. */
  starts: Counter;
  logger: Logger;
}

/**
 * The BullMQ processor of a fleet server. A job taken from the queue runs as
 * one local job here, under the owner's quota and this server's limits; with
 * no room it goes back to the queue for any server (see AdmissionGate).
 *
 * A job taken again after its lock expired (its server died, or Redis was
 * away long enough) first looks for its earlier attempt: a result or a running
 * job is adopted, so a Redis outage never runs a job twice or loses one; only
 * an attempt whose server cannot say anything is lost, and the job runs again
 * if its attempts allow.
 */
export function fleetProcessor(context: FleetWorkerContext) {
  return async (job: BullJob<FleetJobData, JsonValue>, token?: string): Promise<JsonValue> => {
    const data: FleetJobData = { ...job.data, runs: [...job.data.runs] };
    if (data.stopped) throw new UnrecoverableError("stopped while queued");
    const last = data.runs.at(-1);
    if (last && !last.lost) {
      const adopted = await adopt(context, data, last);
      if (adopted !== undefined) return adopted;
      last.lost = `attempt ${last.attempt} was lost: its server ${last.host} (${last.address}) stopped answering`;
      context.logger.warn({ job: job.id, host: last.host, attempt: last.attempt }, "fleet job attempt lost");
      await job.updateData(data);
      if (data.runs.length >= data.attempts) throw new UnrecoverableError(last.lost);
    }
    const { manager, self } = context;
    const quota = data.role === "admin" ? context.quotas.admin : context.quotas.user;
    let started: Awaited<ReturnType<JobManager["start"]>>;
    try {
      const request = startRequestFromProto(fromJson(StartJobRequestSchema, data.request));
      started = await manager.start(data.owner, request, { quota });
    } catch (error) {
      if (isJobError(error) && error.code === "resource_exhausted") {
        // No room here (a limit or the owner's quota): back to the queue, its priority kept, for
        // whichever server has room; this one takes nothing more until it may have some.
        await job.moveToWait(token);
        context.gate.close();
        throw new WaitingError();
      }
      throw new UnrecoverableError(`could not start on ${self.host}: ${(error as Error).message}`);
    }
    context.starts.inc();
    if (data.runs.length === 0) {
      context.metrics.waitTime.observe(
        { queue: job.queueName },
        (Date.now() - job.timestamp - (job.delay ?? 0)) / 1000,
      );
    }
    data.runs.push({ attempt: data.runs.length + 1, host: self.host, address: self.address, jobId: started.id });
    await job.updateData(data);
    // The progress event tells followers waiting on a queued job where it now runs.
    await job.updateProgress({ host: self.host, attempt: data.runs.length });
    const ended = await manager.wait(started.id, { allOwners: true });
    return toJson(JobSchema, jobToProto(ended));
  };
}

/** The ended job of an earlier attempt, waited for if it still runs; undefined when it is lost. */
async function adopt(context: FleetWorkerContext, data: FleetJobData, run: FleetRun): Promise<JsonValue | undefined> {
  if (run.address === context.self.address) {
    try {
      return toJson(JobSchema, jobToProto(await context.manager.wait(run.jobId, { allOwners: true })));
    } catch (error) {
      if (isJobError(error) && error.code === "not_found") return undefined;
      throw error;
    }
  }
  try {
    const response = await context.peers
      .of(run.address)
      .waitJob({ id: run.jobId }, PeerClients.as({ name: data.owner, role: data.role }));
    return response.job ? toJson(JobSchema, response.job) : undefined;
  } catch (error) {
    // A peer that is gone (or lost the job) cannot finish this attempt.
    if (error instanceof ConnectError && (error.code === Code.Unavailable || error.code === Code.NotFound)) {
      return undefined;
    }
    throw error;
  }
}
