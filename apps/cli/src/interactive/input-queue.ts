/**
 * A queue between an event source (stdin's data, window resizes) and the
 * client stream that pulls from it. It tells the source to pause once a few
 * items wait, and to resume when they have been taken: input goes no faster
 * than the server takes it, and nothing piles up in memory.
 */
export class InputQueue<T> {
  private readonly items: T[] = [];
  private waiter?: (result: IteratorResult<T>) => void;
  private ended = false;

  constructor(
    private readonly onFull: () => void,
    private readonly onRoom: () => void,
    private readonly highWater = 4,
  ) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter({ value: item, done: false });
      return;
    }
    this.items.push(item);
    if (this.items.length >= this.highWater) this.onFull();
  }

  /** No more items: the stream ends once the waiting ones are taken. */
  end(): void {
    this.ended = true;
    if (this.waiter && this.items.length === 0) {
      this.waiter({ value: undefined, done: true });
      this.waiter = undefined;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        if (this.items.length === 0) this.onRoom();
        yield item;
        continue;
      }
      if (this.ended) return;
      const next = await new Promise<IteratorResult<T>>((resolve) => {
        this.waiter = resolve;
        this.onRoom();
      });
      if (next.done) return;
      yield next.value;
    }
  }
}
