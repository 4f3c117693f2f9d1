import { CHUNK_BYTES } from "./log-reader.js";

/** What the largest chunks of all readers sharing a budget may add up to before each reader's shrink. */
const SHARED_CHUNK_BYTES = 2 * CHUNK_BYTES;

/** The largest chunk every reader may read, however many share the budget. */
export const MIN_CHUNK_LIMIT = CHUNK_BYTES / 4;

/**
 * How large the chunks of output readers that share a server's memory may be.
 * Every chunk costs its reader a fixed amount (a read on libuv's pool, an RPC
 * message, an HTTP/2 write and its wake-ups), so one reader catching up on a
 * long output goes fastest with large chunks: 1 MiB chunks cost the server
 * about a quarter less CPU per GiB than 256 KiB ones. But a reader holds
 * about four of its chunks at once (one read ahead, one being sent, its
 * TLS plaintext and ciphertext), so readers share {@link SHARED_CHUNK_BYTES}:
 * one or two read chunks of up to CHUNK_BYTES, more read smaller ones, down to
 * {@link MIN_CHUNK_LIMIT} each from five on. What they hold together then grows
 * with their number by a small constant each, not by the largest chunk.
 */
export class ChunkBudget {
  private readers = 0;

  /** A reader starts reading; it calls the function returned once it stops (again is harmless). */
  join(): () => void {
    this.readers++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.readers--;
    };
  }

  /** Readers reading now. */
  get readerCount(): number {
    return this.readers;
  }

  /** The largest chunk a reader may read now: a power of two from MIN_CHUNK_LIMIT to CHUNK_BYTES. */
  get chunkLimit(): number {
    let limit = CHUNK_BYTES;
    while (limit > MIN_CHUNK_LIMIT && limit * this.readers > SHARED_CHUNK_BYTES) limit /= 2;
    return limit;
  }
}
