import type { QueueEvents } from "bullmq";

/**
 * Resolves on the next progress, completed or failed event of job `id` (a
 * server took it, or it ended); rejects when `signal` aborts. Listeners go
 * with it either way. Without `events` it resolves at once.
 */
export function nextEvent(events: QueueEvents | undefined, id: string, signal: AbortSignal): Promise<void> {
  if (!events) return Promise.resolve();
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const done = () => {
      events.off("progress", listener);
      events.off("completed", listener);
      events.off("failed", listener);
      signal.removeEventListener("abort", aborted);
    };
    const listener = ({ jobId }: { jobId: string }) => {
      if (jobId !== id) return;
      done();
      resolve();
    };
    const aborted = () => {
      done();
      reject(signal.reason);
    };
    events.on("progress", listener);
    events.on("completed", listener);
    events.on("failed", listener);
    signal.addEventListener("abort", aborted, { once: true });
  });
}
