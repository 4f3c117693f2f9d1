import type { ServiceImpl } from "@connectrpc/connect";
import { isJobError, type JobManager } from "@jobworker/core";
import { type JobService, JobState } from "@jobworker/proto";
import { apiError } from "../api/errors.js";
import { durationToMs, jobIdFromProto } from "../api/from-proto.js";
import { interruption } from "../interruption.js";
import type { StreamTracker } from "../limits/stream-tracker.js";
import { requestLogKey } from "../logging/request-log.js";
import { callerOf, listScopeOf, scopeOf } from "../tls/authorization.js";
import type { Fleet } from "./fleet.js";
import { notFound } from "./fleet-job.js";

/**
 * JobService with the fleet on top of the local one: StartJob with a queue
 * submits to it, ListJobs with a queue lists it, and the calls on one job
 * (GetJob, WaitJob, StreamOutput, StopJob) that name no local job look for a
 * fleet job, answered by the server that runs it. Without a fleet (`fleet`
 * undefined) a queue is FAILED_PRECONDITION and everything else is local.
 */
export function withFleetRef(
  local: ServiceImpl<typeof JobService>,
  manager: JobManager,
  streams: StreamTracker,
  fleetRef: { get(): Fleet | undefined },
): ServiceImpl<typeof JobService> {
  const notInFleet = () =>
    apiError(
      "JW_ERR_FAILED_PRECONDITION",
      "this server is not in a fleet: start it with --queue-url redis://HOST:PORT (docs/fleet.md), or submit to a server that is",
    );
  /** Whether `id` is a job of this server in the caller's scope (it is then served locally, as before). */
  const isLocal = (id: string, context: Parameters<typeof scopeOf>[0]) => {
    const fleet = fleetRef.get();
    try {
      manager.get(id, scopeOf(context));
      return true;
    } catch (error) {
      if (fleet && isJobError(error) && error.code === "not_found") return false;
      throw error;
    }
  };
  return {
    ...local,

    async startJob(request, context) {
      const fleet = fleetRef.get();
      if (!request.queue) {
        if (request.priority || request.delay || request.attempts) {
          throw apiError("JW_ERR_INVALID_ARGUMENT", "priority, delay and attempts are for fleet jobs: add a queue");
        }
        return local.startJob(request, context);
      }
      if (!fleet) throw notInFleet();
      const job = await fleet.submit(callerOf(context), request);
      context.values
        .get(requestLogKey)
        .audit("submit", { job: job.id, queue: request.queue, command: request.command, args: request.args });
      return { job };
    },

    async getJob(request, context) {
      const fleet = fleetRef.get();
      const id = jobIdFromProto(request.id);
      if (!fleet || isLocal(id, context)) return local.getJob(request, context);
      const caller = callerOf(context);
      const found = await fleet.find(id, caller);
      if (!found) throw notFound(id);
      return { job: await fleet.view(found.record, caller, context.signal) };
    },

    async waitJob(request, context) {
      const fleet = fleetRef.get();
      const id = jobIdFromProto(request.id);
      if (!fleet || isLocal(id, context)) return local.waitJob(request, context);
      try {
        return { job: await fleet.wait(id, callerOf(context), context.signal) };
      } catch (error) {
        if (context.signal.aborted) throw interruption(context.signal.reason);
        throw error;
      }
    },

    async stopJob(request, context) {
      const fleet = fleetRef.get();
      const id = jobIdFromProto(request.id);
      if (!fleet || isLocal(id, context)) return local.stopJob(request, context);
      const graceMs = request.gracePeriod ? durationToMs(request.gracePeriod, "grace_period") : undefined;
      context.values.get(requestLogKey).audit("stop", { job: id, graceMs });
      return { job: await fleet.stop(id, callerOf(context), graceMs, context.signal) };
    },

    async *streamOutput(request, context) {
      const fleet = fleetRef.get();
      const id = jobIdFromProto(request.id);
      if (!fleet || isLocal(id, context)) {
        yield* local.streamOutput(request, context);
        return;
      }
      // Counted with the caller's local streams: a fleet id is no way around the follower quota.
      const caller = callerOf(context);
      yield* streams.track(caller.name, fleet.stream(id, caller, request, context.signal));
      if (context.signal.aborted) throw interruption(context.signal.reason);
    },

    async *watchJobs(request, context) {
      if (request.state === JobState.QUEUED) {
        throw apiError(
          "JW_ERR_INVALID_ARGUMENT",
          "WatchJobs watches this server's own jobs, which are never queued: list a queue's jobs with ListJobs (runjob list --queue)",
        );
      }
      yield* local.watchJobs(request, context);
    },

    async listJobs(request, context) {
      const fleet = fleetRef.get();
      if (!request.queue) {
        // Only fleet jobs are ever queued; a server's own jobs never are.
        if (request.state === JobState.QUEUED) return { jobs: [], nextPageToken: "" };
        return local.listJobs(request, context);
      }
      if (!fleet) throw notInFleet();
      listScopeOf(context, request.owner); // only an admin may name another owner
      if (request.labelSelector || request.pageToken) {
        throw apiError("JW_ERR_INVALID_ARGUMENT", "a queue listing takes no label_selector or page_token");
      }
      return {
        jobs: await fleet.list(request.queue, callerOf(context), request.owner, request.state),
        nextPageToken: "",
      };
    },
  };
}
