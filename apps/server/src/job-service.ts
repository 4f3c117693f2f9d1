import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { JobManager } from "@jobworker/core";
import { type JobService, StreamOutputResponseSchema } from "@jobworker/proto";
import { callerOf, scopeOf } from "./authorization.js";
import { durationToMs, jobIdFromProto, startRequestFromProto } from "./from-proto.js";
import { interruption } from "./interruption.js";
import type { Metrics } from "./metrics.js";
import { requestLogKey } from "./request-log.js";
import type { StreamTracker } from "./stream-tracker.js";
import { jobToProto, stateFromProto } from "./to-proto.js";

/** JobService on top of a JobManager. Each handler asks `scopeOf` which jobs the caller may touch. */
export function jobService(
  manager: JobManager,
  metrics: Metrics,
  streams: StreamTracker,
): ServiceImpl<typeof JobService> {
  return {
    async startJob(request, context) {
      const caller = callerOf(context);
      const job = await manager.start(caller.name, startRequestFromProto(request));
      metrics.starts.inc();
      context.values.get(requestLogKey).audit("start", { job: job.id, command: job.command, args: job.args });
      return { job: jobToProto(job) };
    },

    async stopJob(request, context) {
      const id = jobIdFromProto(request.id);
      const graceMs = request.gracePeriod ? durationToMs(request.gracePeriod, "grace_period") : undefined;
      context.values.get(requestLogKey).audit("stop", { job: id, graceMs });
      const job = await manager.stop(id, scopeOf(context), { graceMs });
      metrics.stops.inc();
      return { job: jobToProto(job) };
    },

    async getJob(request, context) {
      return { job: jobToProto(manager.get(jobIdFromProto(request.id), scopeOf(context))) };
    },

    async waitJob(request, context) {
      try {
        return { job: jobToProto(await manager.wait(jobIdFromProto(request.id), scopeOf(context), context.signal)) };
      } catch (error) {
        if (context.signal.aborted) throw interruption(context.signal.reason);
        throw error;
      }
    },

    async listJobs(request, context) {
      const caller = callerOf(context);
      if (request.owner && caller.role !== "admin" && request.owner !== caller.name) {
        throw new ConnectError("only an admin may list another owner's jobs", Code.PermissionDenied);
      }
      const jobs = manager.list(scopeOf(context), {
        state: stateFromProto(request.state),
        owner: request.owner || undefined,
      });
      return { jobs: jobs.map(jobToProto) };
    },

    async *streamOutput(request, context) {
      const id = jobIdFromProto(request.id);
      if (request.fromOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new ConnectError("from_offset is out of range", Code.InvalidArgument);
      }
      const chunks = manager.openOutput(id, scopeOf(context), {
        fromOffset: Number(request.fromOffset),
        follow: request.follow,
        signal: context.signal,
      });
      for await (const chunk of streams.track(callerOf(context).name, chunks)) {
        yield create(StreamOutputResponseSchema, { offset: BigInt(chunk.offset), data: chunk.data });
      }
      // The reader stops early when the call is aborted: that is no end of the output.
      if (context.signal.aborted) throw interruption(context.signal.reason);
    },

    async deleteJob(request, context) {
      const id = jobIdFromProto(request.id);
      context.values.get(requestLogKey).audit("delete", { job: id });
      await manager.delete(id, scopeOf(context));
      return {};
    },

    async cleanJobs(request, context) {
      const caller = callerOf(context);
      if (request.allOwners && caller.role !== "admin") {
        throw new ConnectError("only an admin may clean every owner's jobs", Code.PermissionDenied);
      }
      context.values.get(requestLogKey).audit("clean", { allOwners: request.allOwners });
      const deletedCount = await manager.clean(request.allOwners ? { allOwners: true } : { owner: caller.name });
      return { deletedCount };
    },
  };
}
