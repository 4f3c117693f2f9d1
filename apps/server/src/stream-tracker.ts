/**
 * Counts StreamOutput calls in progress and tells when none is left: shutdown
 * waits on it so streams end cleanly, and the open-streams gauge reads it.
 */
export class StreamTracker {
  private open = 0;
  private idleWaiters: (() => void)[] = [];

  get count(): number {
    return this.open;
  }

  /** Runs `stream` as one tracked stream. */
  async *track<T>(stream: AsyncIterable<T>): AsyncGenerator<T> {
    this.open++;
    try {
      yield* stream;
    } finally {
      this.open--;
      if (this.open === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves once no stream is open. */
  idle(): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
