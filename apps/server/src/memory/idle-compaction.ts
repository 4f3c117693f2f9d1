import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** How long the server must have had no output stream open before it gives memory back. */
const IDLE_DELAY_MS = 10_000;
/** Streaming less than this since the last compaction leaves too little behind to be worth a full GC. */
const STREAMED_BYTES_WORTH_IT = 64 * 2 ** 20;

/**
 * Gives back the memory a spell of output streaming leaves behind, once the
 * server has been idle a while. Streaming allocates fast: V8 grows its young
 * generation to the maximum (16 MiB semi-spaces, 32 MiB resident) and shrinks
 * it only in a memory-reducing collection, which it starts on its own only
 * after an old-generation collection, and streaming triggers none (what it
 * allocates dies young). So an idle server kept ~20 MiB of empty young
 * generation, and the garbage in it, forever (heap statistics before and after
 * show it: new space 16 → 32 MiB, used 4 MiB). One memory-reducing collection
 * when the last stream has been closed for IDLE_DELAY_MS, as V8's own memory
 * reducer would run, gives it back; it takes a few milliseconds on an idle heap.
 */
export class IdleCompaction {
  private open = 0;
  private streamed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly collect: () => void = memoryReducingCollection,
    private readonly delayMs = IDLE_DELAY_MS,
  ) {}

  /** Passes `messages` through, counting the bytes of their `data`; the server is busy until it ends. */
  async *track<T extends { data: Uint8Array }>(messages: AsyncIterable<T>): AsyncGenerator<T> {
    this.open++;
    clearTimeout(this.timer);
    try {
      for await (const message of messages) {
        this.streamed += message.data.byteLength;
        yield message;
      }
    } finally {
      this.open--;
      if (this.open === 0 && this.streamed >= STREAMED_BYTES_WORTH_IT) {
        this.timer = setTimeout(() => this.compact(), this.delayMs).unref();
      }
    }
  }

  /** Stops a pending compaction (shutdown). */
  close(): void {
    clearTimeout(this.timer);
  }

  private compact(): void {
    if (this.open > 0) return;
    this.streamed = 0;
    this.collect();
  }
}

let gc: ((options: object) => void) | null | undefined;

/**
 * V8's memory-reducing full collection (the one it runs on memory pressure),
 * through the gc() that --expose-gc gives a new context: Node has no other way
 * in. Where the runtime refuses the flag, the memory stays as it was: no error.
 */
export function memoryReducingCollection(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      const exposed: unknown = runInNewContext("gc");
      gc = typeof exposed === "function" ? (exposed as (options: object) => void) : null;
    } catch {
      gc = null;
    }
  }
  gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
}
