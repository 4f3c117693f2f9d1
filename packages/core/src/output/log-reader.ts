import { open } from "node:fs/promises";
import type { ChunkBudget } from "./chunk-budget.js";
import type { ChunkBuffers } from "./chunk-buffers.js";
import type { OutputFeed } from "./output-feed.js";

/** A piece of a job's output and where it starts in the job's output. */
export interface OutputChunk {
  /** Where `data` starts in the job's output: pass `offset + data.length` to resume after it. */
  offset: number;
  /** The bytes, exactly as the job wrote them (stdout and stderr interleaved). */
  data: Uint8Array;
}

/** Where to read a job's output from, and whether to follow it. */
export interface ReadOutputOptions {
  /** Byte offset to start from. Default 0. */
  fromOffset?: number;
  /** Keep reading as the job writes, until it ends. Default false: stop at the current end. */
  follow?: boolean;
  /** Aborting ends the iteration and releases the file at once. */
  signal?: AbortSignal;
  /**
   * Where chunks are read into: each chunk then sits at the buffers' headroom, for its consumer
   * to frame in place and give back once sent. Default: a buffer of its own for each chunk.
   */
  buffers?: ChunkBuffers;
}

/** What a reader is told besides the public options. */
export interface ReaderOptions extends ReadOutputOptions {
  /**
   * The readers this one shares memory with: its chunks grow only to the
   * budget's limit at the time, the smaller the more readers share it.
   * Default: up to CHUNK_BYTES.
   */
  budget?: ChunkBudget;
}

/** Largest chunk a reader holds; with the one read ahead, a reader never holds more than two. */
export const CHUNK_BYTES = 1024 * 1024;

/** Chunk size while a reader keeps up with the job: reads are short, and each holds a buffer this big. */
const LIVE_CHUNK_BYTES = 16 * 1024;

/**
 * Reads a job's log from an offset in bounded chunks, binary-safe. Each reader
 * has its own file handle and offset, so readers never wait on each other and
 * the job never waits on any of them.
 */
export async function* readOutput(
  path: string,
  feed: OutputFeed,
  { fromOffset = 0, follow = false, signal, buffers, budget }: ReaderOptions,
): AsyncGenerator<OutputChunk, void, undefined> {
  const file = await open(path, "r");
  // One read is always in flight ahead of the consumer, so reading the file
  // overlaps with sending the previous chunk: two chunks per reader at most.
  // Chunks grow while reads come back full (catching up on a long output, where
  // every message's fixed cost counts, up to the budget's limit) and shrink again
  // once a read comes back short (following a live job, where a big buffer would
  // mostly hold nothing).
  // They never outgrow a quarter of what the consumer has taken: a chunk the
  // consumer cannot send (a client that never reads, held back by HTTP/2 flow
  // control) stays in memory, so a stalled reader holds small chunks only. With
  // `buffers`, full chunks sit in pool slots, taken back once sent, and short
  // ones are moved to buffers of their size.
  let size = LIVE_CHUNK_BYTES;
  let taken = 0;
  const readAt = async (at: number) => {
    const seen = feed.generation;
    const ended = feed.ended;
    const requested = size;
    const headroom = buffers?.headroom ?? 0;
    const buffer = buffers ? buffers.take(requested) : Buffer.allocUnsafe(requested);
    const { bytesRead } = await file.read(buffer, headroom, requested, at);
    size =
      bytesRead === requested
        ? Math.min(size * 2, budget?.chunkLimit ?? CHUNK_BYTES, Math.max(LIVE_CHUNK_BYTES, Math.floor(taken / 4)))
        : LIVE_CHUNK_BYTES;
    let data: Buffer;
    if (buffers) {
      // The consumer gives the buffer back once the chunk is sent. A short read (the live end
      // of the output) moves to a buffer of its size, as below: a follower may hold it long.
      data = buffer.subarray(headroom, headroom + bytesRead);
      if (bytesRead === 0) buffers.give(data);
      else if (bytesRead < requested) data = buffers.compact(data);
    } else {
      // A short read keeps only its bytes: a view would pin the whole buffer for as long as
      // the chunk waits to be sent (or, at EOF, for as long as a follower waits for output).
      data = bytesRead === buffer.length ? buffer : Buffer.from(buffer.subarray(0, bytesRead));
    }
    return { seen, ended, short: bytesRead < requested, data };
  };
  // Ends a wait for new output when the consumer stops early (a break, not only an abort).
  const stop = new AbortController();
  const waitSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let offset = fromOffset;
  const leave = budget?.join();
  let next = readAt(offset);
  try {
    while (!signal?.aborted) {
      const { seen, ended, short, data } = await next;
      if (data.length > 0) {
        const at = offset;
        offset += data.length;
        taken += data.length;
        // A short read reached the live end of the output: read again once it has grown, not at
        // once, or a follower of a job writing a byte at a time would spin on reads of a few bytes.
        next =
          follow && !ended && short ? feed.waitForChange(seen, waitSignal).then(() => readAt(offset)) : readAt(offset);
        // Nothing here refers to the chunk after the yield, so a consumer that sends it
        // (or drops it) is the only one holding it.
        yield { offset: at, data };
        continue;
      }
      // At EOF: done unless following a job that may still write.
      if (!follow || ended) return;
      await feed.waitForChange(seen, waitSignal);
      next = readAt(offset);
    }
  } finally {
    stop.abort();
    // The read ahead was never handed out: its buffer goes back at once.
    // (An empty read gave its buffer back already, and it may be lent again since.)
    const unread = await next.catch(() => undefined);
    if (unread && unread.data.length > 0) buffers?.give(unread.data);
    leave?.();
    await file.close();
  }
}
