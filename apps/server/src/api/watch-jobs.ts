import { create, toBinary } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { JobEvent, JobManager, WatchEvent } from "@jobworker/core";
import {
  JobEventSchema,
  JobEventType,
  type JobEvent as ProtoJobEvent,
  type WatchJobsRequest,
  type WatchJobsResponse,
  WatchJobsResponseSchema,
} from "@jobworker/proto";
import { interruption } from "../interruption.js";
import type { StreamTracker } from "../limits/stream-tracker.js";
import { callerOf, listScopeOf } from "../tls/authorization.js";
import { attachFrame, ENVELOPE_BYTES, varintLength, writeVarint } from "./enveloped-binary.js";
import { apiError } from "./errors.js";
import { selectorFromProto } from "./from-proto.js";
import { jobToProto, stateFromProto } from "./to-proto.js";

const EVENT_TYPES: Record<WatchEvent["type"], JobEventType> = {
  snapshot: JobEventType.SNAPSHOT,
  synced: JobEventType.SYNCED,
  created: JobEventType.CREATED,
  running: JobEventType.RUNNING,
  stopping: JobEventType.STOPPING,
  ended: JobEventType.ENDED,
  deleted: JobEventType.DELETED,
};

/**
 * One event message per change, shared by every watcher that gets it: a
 * hundred watchers convert a change once, not a hundred times. Kept as long as
 * core's event log keeps the change.
 */
const converted = new WeakMap<JobEvent, ProtoJobEvent>();

function eventOf(event: WatchEvent): ProtoJobEvent {
  if (event.type === "snapshot" || event.type === "synced") {
    return create(JobEventSchema, {
      type: EVENT_TYPES[event.type],
      job: event.type === "snapshot" ? jobToProto(event.job) : undefined,
      revision: BigInt(event.revision),
      reset: event.type === "synced" && event.reset,
    });
  }
  let message = converted.get(event);
  if (!message) {
    message = create(JobEventSchema, {
      type: EVENT_TYPES[event.type],
      job: jobToProto(event.job),
      revision: BigInt(event.revision),
    });
    converted.set(event, message);
  }
  return message;
}

const encoder = new TextEncoder();

/** Each change's binary encoding, made once for every watcher that gets it, as its message is. */
const encoded = new WeakMap<ProtoJobEvent, Uint8Array>();

function encodedEvent(event: ProtoJobEvent): Uint8Array {
  let bytes = encoded.get(event);
  if (!bytes) {
    bytes = toBinary(JobEventSchema, event);
    encoded.set(event, bytes);
  }
  return bytes;
}

/**
 * A WatchJobsResponse carrying its own binary encoding, put together from its
 * events' encodings (field 1 each, then the epoch as field 2), exactly as
 * protobuf-es would write it: a hundred watchers of a change encode it once.
 */
export function responseOf(events: ProtoJobEvent[], serverEpoch: string): WatchJobsResponse {
  const response = create(WatchJobsResponseSchema, { events, serverEpoch });
  const parts = events.map(encodedEvent);
  const epochBytes = encoder.encode(serverEpoch);
  // proto3 leaves an empty string out.
  let length = ENVELOPE_BYTES + (epochBytes.length > 0 ? 1 + varintLength(epochBytes.length) + epochBytes.length : 0);
  for (const part of parts) length += 1 + varintLength(part.length) + part.length;
  const frame = new Uint8Array(length);
  let at = ENVELOPE_BYTES;
  for (const part of parts) {
    frame[at++] = 0x0a; // field 1, length-delimited
    at = writeVarint(frame, at, part.length);
    frame.set(part, at);
    at += part.length;
  }
  if (epochBytes.length > 0) {
    frame[at++] = 0x12; // field 2, length-delimited
    at = writeVarint(frame, at, epochBytes.length);
    frame.set(epochBytes, at);
  }
  attachFrame(response, frame);
  return response;
}

/**
 * WatchJobs: the caller's jobs (filtered as ListJobs), then every change, from
 * core's event log, as many events per response as have piled up (while the
 * client keeps up, what changed in one turn of the event loop, see
 * JobJournal). A watch counts as one of the caller's streams, as a followed
 * output does: each holds a call open for as long as the client likes.
 */
export async function* watchJobs(
  manager: JobManager,
  streams: StreamTracker,
  request: WatchJobsRequest,
  context: HandlerContext,
): AsyncGenerator<WatchJobsResponse> {
  const scope = listScopeOf(context, request.owner);
  if (request.afterRevision > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw apiError("JW_ERR_INVALID_ARGUMENT", "after_revision is out of range");
  }
  const filter = {
    state: stateFromProto(request.state),
    owner: request.owner || undefined,
    labels: selectorFromProto(request.labelSelector),
  };
  const resume = request.serverEpoch
    ? { epoch: request.serverEpoch, afterRevision: Number(request.afterRevision) }
    : undefined;
  const { epoch } = manager.eventLogHead;
  const batches = manager.watch(scope, { filter, resume, signal: context.signal });
  for await (const batch of streams.track(callerOf(context).name, batches)) {
    yield responseOf(batch.map(eventOf), epoch);
  }
  // A watch has no end of its own: it ended because the call was aborted (a shutdown, say).
  throw interruption(context.signal.reason);
}
