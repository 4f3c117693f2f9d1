import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import type { JobManager } from "@jobworker/core";
import {
  JobUsageSchema,
  type WatchUsageRequest,
  type WatchUsageResponse,
  WatchUsageResponseSchema,
} from "@jobworker/proto";
import { interruption } from "../interruption.js";
import type { StreamTracker } from "../limits/stream-tracker.js";
import { callerOf, scopeOf } from "../tls/authorization.js";
import { apiError } from "./errors.js";
import { durationToMs, jobIdFromProto, selectorFromProto } from "./from-proto.js";
import { limitsToProto, liveUsageToProto, stateFromCore } from "./to-proto.js";

/** The interval when a request names none. */
const DEFAULT_INTERVAL_MS = 1000;
/** Most ids one request may name. */
const MAX_IDS = 1000;

/**
 * WatchUsage: samples of the named jobs (or every running job in scope) at the
 * requested interval, from core's shared ticker. Counts as one of the caller's streams.
 */
export async function* watchUsage(
  manager: JobManager,
  streams: StreamTracker,
  request: WatchUsageRequest,
  context: HandlerContext,
): AsyncGenerator<WatchUsageResponse> {
  if (request.ids.length > MAX_IDS) throw apiError("JW_ERR_INVALID_ARGUMENT", `at most ${MAX_IDS} ids are allowed`);
  const ids = request.ids.map(jobIdFromProto);
  const intervalMs = request.interval ? durationToMs(request.interval, "interval") : DEFAULT_INTERVAL_MS;
  const samples = manager.watchUsage(scopeOf(context), {
    ids,
    filter: { labels: selectorFromProto(request.labelSelector) },
    intervalMs,
    signal: context.signal,
  });
  for await (const sample of streams.track(callerOf(context).name, samples)) {
    yield create(WatchUsageResponseSchema, {
      time: timestampFromMs(sample.at),
      jobs: sample.jobs.map(({ job, usage }) =>
        create(JobUsageSchema, {
          id: job.id,
          name: job.name ?? "",
          state: stateFromCore(job.state),
          usage: liveUsageToProto(usage),
          limits: limitsToProto(job.limits),
        }),
      ),
    });
  }
  throw interruption(context.signal.reason);
}
