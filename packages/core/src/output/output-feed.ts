/**
 * Tells a job's readers that its output grew or that the job ended. One feed
 * per job, driven by the job's single directory watch, shared by all readers.
 * A generation counter makes "read to EOF, then wait" race-free: a reader
 * waits only if nothing happened since the generation it saw before reading.
 */
export class OutputFeed {
  private currentGeneration = 0;
  private hasEnded = false;
  private readonly waiters = new Set<() => void>();

  get generation(): number {
    return this.currentGeneration;
  }

  get ended(): boolean {
    return this.hasEnded;
  }

  /** New bytes were appended. */
  notify(): void {
    this.currentGeneration++;
    this.wakeAll();
  }

  /** The job ended: no more bytes will come. */
  end(): void {
    this.hasEnded = true;
    this.currentGeneration++;
    this.wakeAll();
  }

  /** Resolves once the generation differs from `seen`, the job has ended, or `signal` aborts. */
  waitForChange(seen: number, signal?: AbortSignal): Promise<void> {
    if (this.currentGeneration !== seen || this.hasEnded || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        signal?.removeEventListener("abort", wake);
        resolve();
      };
      this.waiters.add(wake);
      signal?.addEventListener("abort", wake, { once: true });
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
