import { type JobEvent, JobState, type StreamOutputResponse, type WatchUsageResponse } from "@jobworker/proto";
import { isTransient, type JobClient, pause } from "./api.js";

/** Tells the page how a stream is doing: live, or broken and retrying (with why). */
export type StreamStatus = (problem: unknown | undefined) => void;

const RETRY_MS = [250, 500, 1000, 2000];

/**
 * Runs `attempt` until it returns or `signal` aborts; when it throws a
 * transient error (the server restarted, the network dropped) it is tried
 * again after a growing pause. `attempt` itself resumes where the last one
 * stopped: the callers keep their position (a revision, an offset).
 */
async function resumably(signal: AbortSignal, status: StreamStatus, attempt: () => Promise<void>): Promise<void> {
  let failures = 0;
  for (;;) {
    try {
      await attempt();
      status(undefined);
      return;
    } catch (error) {
      if (signal.aborted) return;
      status(error);
      if (!isTransient(error)) return;
      await pause(RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)] ?? 2000, signal);
      if (signal.aborted) return;
    }
  }
}

/**
 * Every WatchJobs event for `labelSelector`. A new attempt sends the epoch and
 * revision of the last event handled: the same server goes on with the very
 * next change; a restarted one sends a fresh snapshot (its SYNCED is marked reset).
 */
export function watchJobs(
  client: JobClient,
  labelSelector: string,
  signal: AbortSignal,
  status: StreamStatus,
  handle: (event: JobEvent) => void,
): Promise<void> {
  let resume: { serverEpoch: string; afterRevision: bigint } | undefined;
  return resumably(signal, status, async () => {
    for await (const response of client.watchJobs({ labelSelector, ...resume }, { signal })) {
      status(undefined);
      for (const event of response.events) {
        resume = { serverEpoch: response.serverEpoch, afterRevision: event.revision };
        handle(event);
      }
    }
  });
}

/** Usage samples of every running job in scope, each second, across server restarts. */
export function watchUsage(
  client: JobClient,
  ids: string[],
  signal: AbortSignal,
  status: StreamStatus,
  handle: (response: WatchUsageResponse) => void,
): Promise<void> {
  return resumably(signal, status, async () => {
    for await (const response of client.watchUsage({ ids }, { signal })) {
      status(undefined);
      handle(response);
    }
  });
}

/**
 * A job's output from `start` (an offset, or the last lines), followed live.
 * Each retry asks from the offset after the last byte handled, so a server
 * restart mid-follow neither loses nor repeats a byte.
 */
export function followOutput(
  client: JobClient,
  id: string,
  start: { tailLines: bigint } | { fromOffset: bigint },
  signal: AbortSignal,
  status: StreamStatus,
  handle: (chunk: StreamOutputResponse) => void,
): Promise<void> {
  let request: { tailLines?: bigint; fromOffset?: bigint } = start;
  return resumably(signal, status, async () => {
    for await (const chunk of client.streamOutput({ id, follow: true, ...request }, { signal })) {
      status(undefined);
      request = { fromOffset: chunk.offset + BigInt(chunk.data.length) };
      handle(chunk);
    }
  });
}

/** The whole output so far, as one blob (for the download link). */
export async function readAllOutput(client: JobClient, id: string): Promise<Blob> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for await (const chunk of client.streamOutput({ id, follow: false })) {
    parts.push(new Uint8Array(chunk.data));
  }
  return new Blob(parts, { type: "application/octet-stream" });
}

/** Whether a job still runs (and so has output and usage still to come). */
export function isLive(state: JobState): boolean {
  return state === JobState.STARTING || state === JobState.RUNNING || state === JobState.STOPPING;
}
