import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { JobManager } from "@jobworker/core";
import { type JobService, StreamOutputResponseSchema } from "@jobworker/proto";
import { callerOf, cleanScopeOf, listScopeOf, quotaOf, type RoleQuotas, scopeOf } from "./authorization.js";
import { apiError } from "./errors.js";
import { durationToMs, jobIdFromProto, startRequestFromProto } from "./from-proto.js";
import { interactiveService } from "./interactive-service.js";
import { interruption } from "./interruption.js";
import type { Metrics } from "./metrics.js";
import { auditArgs, requestLogKey } from "./request-log.js";
import type { StreamTracker } from "./stream-tracker.js";
import { jobToProto, stateFromProto } from "./to-proto.js";

/** ListJobs pages: the size when a request names none, and the most a request may ask for. */
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;
/** A page also stops before about this many bytes: jobs may carry up to 1 MiB of arguments each. */
const MAX_PAGE_BYTES = 2 * 1024 * 1024;

/** JobService on top of a JobManager. Each handler asks authorization.ts which jobs the caller may touch. */
export function jobService(
  manager: JobManager,
  metrics: Metrics,
  streams: StreamTracker,
  quotas: RoleQuotas,
): ServiceImpl<typeof JobService> {
  return {
    ...interactiveService(manager, streams),

    async startJob(request, context) {
      const caller = callerOf(context);
      const job = await manager.start(caller.name, startRequestFromProto(request), { quota: quotaOf(context, quotas) });
      metrics.starts.inc();
      context.values.get(requestLogKey).audit("start", { job: job.id, command: job.command, ...auditArgs(job.args) });
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
      if (request.pageSize < 0 || request.pageSize > MAX_PAGE_SIZE) {
        throw apiError("JW_ERR_INVALID_ARGUMENT", `page_size must be between 0 and ${MAX_PAGE_SIZE}`);
      }
      const page = manager.listPage(
        listScopeOf(context, request.owner),
        { state: stateFromProto(request.state), owner: request.owner || undefined },
        {
          size: request.pageSize || DEFAULT_PAGE_SIZE,
          token: request.pageToken || undefined,
          maxBytes: MAX_PAGE_BYTES,
        },
      );
      return { jobs: page.jobs.map(jobToProto), nextPageToken: page.nextPageToken ?? "" };
    },

    async *streamOutput(request, context) {
      const id = jobIdFromProto(request.id);
      if (request.fromOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw apiError("JW_ERR_INVALID_ARGUMENT", "from_offset is out of range");
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
      const scope = cleanScopeOf(context, request.allOwners);
      context.values.get(requestLogKey).audit("clean", { allOwners: request.allOwners });
      const deletedCount = await manager.clean(scope);
      return { deletedCount };
    },
  };
}
