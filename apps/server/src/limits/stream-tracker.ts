import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Counts StreamOutput calls in progress, in all and per caller, and tells when
 * none is left: shutdown waits on it so streams end cleanly, the open-streams
 * gauge reads it, and each caller may hold at most `maxPerOwner` at once (each
 * stream holds a file handle and a chunk for as long as its client keeps it).
 */
export class StreamTracker {
  private open = 0;
  private readonly perOwner = new Map<string, number>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly maxPerOwner = Number.POSITIVE_INFINITY) {}

  get count(): number {
    return this.open;
  }

  /** Streams `owner` has open now. */
  countOf(owner: string): number {
    return this.perOwner.get(owner) ?? 0;
  }

  /**
   * Runs `stream` as one tracked stream of `owner`. When `owner` already has
   * its maximum open, fails with RESOURCE_EXHAUSTED before `stream` is started.
   */
  async *track<T>(owner: string, stream: AsyncIterable<T>): AsyncGenerator<T> {
    const held = this.countOf(owner);
    if (held >= this.maxPerOwner) {
      throw new ConnectError(
        `${owner} already has ${held} output streams open, the most one caller may (--max-followers-per-owner ${this.maxPerOwner}): close one first`,
        Code.ResourceExhausted,
      );
    }
    this.open++;
    this.perOwner.set(owner, held + 1);
    try {
      yield* stream;
    } finally {
      this.open--;
      const left = this.countOf(owner) - 1;
      if (left > 0) this.perOwner.set(owner, left);
      else this.perOwner.delete(owner);
      if (this.open === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves once no stream is open. */
  idle(): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
