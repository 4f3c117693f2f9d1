import type { JobManager } from "@jobworker/core";
import type { Worker } from "bullmq";

/** Longest a server stays closed to new fleet jobs after a refusal when none of its jobs ends meanwhile. */
const REOPEN_AFTER_MS = 1_000;

/**
 * Whether this server takes fleet jobs now. A job it had no room for (a limit
 * or its owner's quota) goes back to the queue with its priority kept, and the
 * server stops taking jobs until one of its own jobs ends (room again), or
 * REOPEN_AFTER_MS pass (the refusal may have been one owner's quota, and
 * another owner's job would fit). Other servers take the job meanwhile.
 */
export class AdmissionGate {
  private workers: Worker[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(manager: JobManager) {
    this.unsubscribe = manager.subscribe((job) => {
      if (job.state === "ended") this.open();
    });
  }

  /** The workers the gate pauses and resumes. */
  attach(worker: Worker): void {
    this.workers.push(worker);
  }

  /** After a refusal: take nothing more until there may be room. */
  close(): void {
    if (this.timer) return;
    for (const worker of this.workers) void worker.pause(true).catch(() => {});
    this.timer = setTimeout(() => this.open(), REOPEN_AFTER_MS);
  }

  private open(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const worker of this.workers) if (!worker.closing) void worker.resume().catch(() => {});
  }

  /** Stops listening and reopening (shutdown). */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribe();
  }
}
