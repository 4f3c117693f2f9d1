import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { JobManager } from "@jobworker/core";
import type { JobService } from "@jobworker/proto";
import { interruption } from "../interruption.js";
import type { StreamTracker } from "../limits/stream-tracker.js";
import { requestLogKey } from "../logging/request-log.js";
import { IdleCompaction } from "../memory/idle-compaction.js";
import type { Metrics } from "../metrics.js";
import { callerOf, cleanScopeOf, listScopeOf, quotaOf, type RoleQuotas, scopeOf } from "../tls/authorization.js";
import { apiError } from "./errors.js";
import { durationToMs, jobIdFromProto, selectorFromProto, startRequestFromProto } from "./from-proto.js";
import { interactiveService } from "./interactive-service.js";
import { outputResponses, pooledOutputBuffers, unpooledOutputBuffers } from "./output-frames.js";
import { responseStreamKey } from "./response-stream.js";
import { jobToProto, stateFromProto } from "./to-proto.js";
import { watchJobs } from "./watch-jobs.js";
import { watchUsage } from "./watch-usage.js";

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
  compaction = new IdleCompaction(),
): ServiceImpl<typeof JobService> {
  // StreamOutput's read buffers, shared by all its calls.
  const pooledBuffers = pooledOutputBuffers();
  return {
    ...interactiveService(manager, streams),

    async startJob(request, context) {
      const caller = callerOf(context);
      const started = performance.now();
      const job = await manager.start(caller.name, startRequestFromProto(request), { quota: quotaOf(context, quotas) });
      metrics.startLatency.observe((performance.now() - started) / 1000);
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
      const id = jobIdFromProto(request.id);
      const scope = scopeOf(context);
      // A running job's usage is read live; an ended one's is final in its record.
      const live = manager.get(id, scope).state === "ended" ? undefined : await manager.liveUsage(id, scope);
      // Taken after the read: a job that ended meanwhile shows its final record.
      const job = manager.get(id, scope);
      return { job: jobToProto(job, job.state === "ended" ? undefined : live) };
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
        {
          state: stateFromProto(request.state),
          owner: request.owner || undefined,
          labels: selectorFromProto(request.labelSelector),
        },
        {
          size: request.pageSize || DEFAULT_PAGE_SIZE,
          token: request.pageToken || undefined,
          maxBytes: MAX_PAGE_BYTES,
        },
      );
      return { jobs: page.jobs.map((job) => jobToProto(job)), nextPageToken: page.nextPageToken ?? "" };
    },

    async *streamOutput(request, context) {
      const id = jobIdFromProto(request.id);
      if (request.fromOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw apiError("JW_ERR_INVALID_ARGUMENT", "from_offset is out of range");
      }
      if (request.tailLines !== undefined && request.tailLines > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw apiError("JW_ERR_INVALID_ARGUMENT", "tail_lines is out of range");
      }
      // Over HTTP/2, chunks are read into pooled buffers and go back once written; a stamped
      // output is cut into pieces that share a buffer, so it (and HTTP/1.1) reads into buffers of its own.
      const stream = context.values.get(responseStreamKey);
      const buffers = stream && !request.timestamps ? pooledBuffers : unpooledOutputBuffers();
      const chunks = manager.openOutput(id, scopeOf(context), {
        fromOffset: Number(request.fromOffset),
        follow: request.follow,
        signal: context.signal,
        tailLines: request.tailLines === undefined ? undefined : Number(request.tailLines),
        since: request.since ? timestampMs(request.since) : undefined,
        timestamps: request.timestamps,
        buffers,
      });
      yield* compaction.track(outputResponses(streams.track(callerOf(context).name, chunks), buffers, stream));
      // The reader stops early when the call is aborted: that is no end of the output.
      if (context.signal.aborted) throw interruption(context.signal.reason);
    },

    async deleteJob(request, context) {
      const id = jobIdFromProto(request.id);
      context.values.get(requestLogKey).audit("delete", { job: id });
      await manager.delete(id, scopeOf(context));
      return {};
    },

    watchJobs(request, context) {
      return watchJobs(manager, streams, request, context);
    },

    watchUsage(request, context) {
      return watchUsage(manager, streams, request, context);
    },

    async cleanJobs(request, context) {
      const scope = cleanScopeOf(context, request.allOwners);
      const labels = selectorFromProto(request.labelSelector);
      context.values
        .get(requestLogKey)
        .audit("clean", { allOwners: request.allOwners, labels: request.labelSelector, endedOnly: request.endedOnly });
      const deletedCount = await manager.clean(scope, { filter: { labels }, endedOnly: request.endedOnly });
      return { deletedCount };
    },
  };
}
